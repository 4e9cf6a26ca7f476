// The third-party and standard headers most of comet's files include, precompiled once per build
// (cmake/ProjectOptions.cmake, COMET_PCH): parsing them was most of a Debug compile. Only headers
// that never change with comet's own code belong here, so a precompiled header stays valid
// between edits; a file still includes what it uses (lint checks files without this header).
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tl/expected.hpp>
