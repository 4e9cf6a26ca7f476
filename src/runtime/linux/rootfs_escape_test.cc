#include "runtime/linux/rootfs_escape.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::runtime {
namespace {

class RootfsEscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create();
    ASSERT_TRUE(dir);
    dir_ = std::move(*dir);
    root_ = os::JoinPath(dir_.path(), "rootfs");
    ASSERT_TRUE(os::MkdirAll(root_ + "/etc/sub"));
  }
  void Link(const char* target, const char* name) {
    ASSERT_EQ(::symlink(target, os::JoinPath(root_, name).c_str()), 0);
  }
  Status Check(const std::string& path) { return CheckStaysInRoot(root_, path, "mounts[0].dest"); }

  os::TempDir dir_ = std::move(*os::TempDir::Create());
  std::string root_;
};

TEST_F(RootfsEscapeTest, PlainAndMissingPathsAreFine) {
  EXPECT_TRUE(Check("/etc/sub"));
  EXPECT_TRUE(Check("/not/there/yet"));
  EXPECT_TRUE(Check("/etc/../etc/./sub"));
}

TEST_F(RootfsEscapeTest, DotDotAboveRootIsRejected) {
  auto st = Check("/../../outside");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("mounts[0].dest \"/../../outside\": escapes"),
            std::string::npos)
      << st.error().ToString();
  EXPECT_FALSE(Check("/etc/../../x"));
}

TEST_F(RootfsEscapeTest, RelativeSymlinkClimbingOutIsRejected) {
  Link("../../../../tmp", "evil");
  auto st = Check("/evil/sub");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("through the symlink /evil -> ../../../../tmp"),
            std::string::npos)
      << st.error().ToString();
}

TEST_F(RootfsEscapeTest, SymlinksInsideTheRootAreFine) {
  Link("/etc", "abs");     // absolute targets are the container's own paths
  Link("etc/sub", "rel");  // relative, staying inside
  Link("../etc", "etc/up");
  EXPECT_TRUE(Check("/abs/sub"));
  EXPECT_TRUE(Check("/rel/x"));
  EXPECT_TRUE(Check("/etc/up/sub"));
}

TEST_F(RootfsEscapeTest, SymlinkLoopIsAnError) {
  Link("loop2", "loop1");
  Link("loop1", "loop2");
  auto st = Check("/loop1/x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ELOOP);
}

}  // namespace
}  // namespace comet::runtime
