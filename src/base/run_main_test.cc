#include "base/run_main.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace comet {
namespace {

int ReturnsArgc(int argc, char** /*argv*/) {
  return argc + 40;
}

int ThrowsStdException(int /*argc*/, char** /*argv*/) {
  throw std::runtime_error("bad manifest cache");
}

int ThrowsSomethingElse(int /*argc*/, char** /*argv*/) {
  throw 7;
}

TEST(RunMain, PassesTheEntryPointsStatusThrough) {
  char name[] = "comet";
  char* argv[] = {name, nullptr};
  EXPECT_EQ(RunMain("comet", ReturnsArgc, 1, argv), 41);
}

TEST(RunMain, AnExceptionIsAnInternalErrorNamedByTheProgram) {
  char name[] = "comet-node";
  char* argv[] = {name, nullptr};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunMain("comet-node", ThrowsStdException, 1, argv), kInternalErrorStatus);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "comet-node: internal error: bad manifest cache\n");
}

TEST(RunMain, AnythingThrownIsCaughtWithTheGivenStatus) {
  char name[] = "comet-runtime";
  char* argv[] = {name, nullptr};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunMain("comet-runtime", ThrowsSomethingElse, 1, argv, 1), 1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "comet-runtime: internal error: unknown exception\n");
}

}  // namespace
}  // namespace comet
