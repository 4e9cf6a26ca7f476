// Tests for reading mount points below a directory from mountinfo text.
#include "pod/mount_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::pod::internal {
namespace {

using ::testing::ElementsAre;

constexpr const char* kMountinfo =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "30 22 0:40 / /var/lib/comet/pods/run/u rw - tmpfs tmpfs rw\n"
    "31 30 0:41 / /var/lib/comet/pods/run/u/apps/web/rootfs rw - overlay overlay rw\n"
    "32 30 0:42 / /var/lib/comet/pods/run/u/volumes/my\\040vol rw - tmpfs tmpfs rw\n"
    "33 22 0:43 / /var/lib/comet/pods/run/u2 rw - tmpfs tmpfs rw\n"
    "34 22 0:44 / /var/lib/comet/pods/run/ux/a rw - tmpfs tmpfs rw\n"
    "35 31 0:45 / /var/lib/comet/pods/run/u/apps/web/rootfs rw - tmpfs tmpfs rw\n"
    "\n";

TEST(MountTableTest, DeepestFirstOnlyBelowTheDirectory) {
  EXPECT_THAT(MountPointsUnder(kMountinfo, "/var/lib/comet/pods/run/u"),
              ElementsAre("/var/lib/comet/pods/run/u/apps/web/rootfs",
                          "/var/lib/comet/pods/run/u/apps/web/rootfs",
                          "/var/lib/comet/pods/run/u/volumes/my vol", "/var/lib/comet/pods/run/u"));
  EXPECT_THAT(MountPointsUnder(kMountinfo, "/var/lib/comet/pods/run/u2"),
              ElementsAre("/var/lib/comet/pods/run/u2"));
  EXPECT_TRUE(MountPointsUnder(kMountinfo, "/var/lib/comet/pods/run/v").empty());
  EXPECT_TRUE(MountPointsUnder("garbage line\n", "/").empty());
}

TEST(MountTableTest, CurrentTableHasRoot) {
  auto mounts = CurrentMountPointsUnder("/");
  ASSERT_TRUE(mounts) << mounts.error().ToString();
  EXPECT_FALSE(mounts->empty());
  EXPECT_EQ(mounts->back(), "/");
  EXPECT_FALSE(CurrentMountPointsUnder("/nonexistent-dir-for-test"));
}

}  // namespace
}  // namespace comet::pod::internal
