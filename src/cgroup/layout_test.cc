#include <gtest/gtest.h>

#include "cgroup/manager.h"

namespace comet::cgroup {
namespace {

constexpr char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /mnt/with\\040space rw - cgroup cgroup rw,pids\n";

TEST(LayoutTest, HybridIsV1) {
  auto layout = ParseLayout(kHybridMountinfo,
                            "9:name=systemd:/\n4:memory:/nested/x\n2:cpu,cpuacct:/\n0::/\n");
  ASSERT_TRUE(layout) << layout.error().ToString();
  EXPECT_EQ(layout->version, Version::kV1);
  EXPECT_EQ(layout->unified_root, "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout->v1_roots.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_roots.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_roots.at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(layout->v1_roots.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(layout->v1_roots.at("pids"), "/mnt/with space");
  EXPECT_EQ(layout->v1_roots.count("xattr"), 0U);
  EXPECT_EQ(layout->self_paths.at("memory"), "/nested/x");
  EXPECT_EQ(layout->self_paths.at("cpuacct"), "/");
  EXPECT_EQ(layout->self_paths.at(""), "/");
}

TEST(LayoutTest, PureV2) {
  auto layout =
      ParseLayout("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
                  "0::/user.slice/session-1.scope\n");
  ASSERT_TRUE(layout);
  EXPECT_EQ(layout->version, Version::kV2);
  EXPECT_EQ(layout->unified_root, "/sys/fs/cgroup");
  EXPECT_TRUE(layout->v1_roots.empty());
  EXPECT_EQ(layout->self_paths.at(""), "/user.slice/session-1.scope");
}

TEST(LayoutTest, NoCgroupfs) {
  auto layout = ParseLayout("22 1 0:5 / /proc rw - proc proc rw\n", "");
  ASSERT_FALSE(layout);
  EXPECT_EQ(layout.error().code(), ENOENT);
}

TEST(LayoutTest, DetectsThisMachine) {
  auto layout = DetectLayout();
  ASSERT_TRUE(layout) << layout.error().ToString();
  if (layout->version == Version::kV1) {
    EXPECT_EQ(layout->v1_roots.count("memory"), 1U);
    EXPECT_EQ(layout->self_paths.count("memory"), 1U);
  } else {
    EXPECT_FALSE(layout->unified_root.empty());
  }
}

}  // namespace
}  // namespace comet::cgroup
