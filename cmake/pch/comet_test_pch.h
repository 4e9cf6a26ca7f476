// comet_pch.h and GoogleTest, for the test binaries (cmake/ProjectOptions.cmake, COMET_PCH).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "comet_pch.h"
