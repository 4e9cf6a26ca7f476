// Unit tests of the rootfs layer that need no privileges: mount option parsing, PlanRootfs
// errors and contents, the v1 hierarchy list, and path resolution inside a rootfs.
#include "runtime/linux/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "runtime/linux/mount_options.h"
#include "runtime/linux/rootfs_cgroup.h"
#include "runtime/linux/rootfs_plan.h"
#include "runtime/linux/safe_path.h"

namespace comet::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MountOptionsTest, FlagsAndData) {
  auto parsed = ParseMountOptions({"nosuid", "noexec", "nodev", "mode=755", "size=65536k"});
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV));
  EXPECT_EQ(parsed->data, "mode=755,size=65536k");
  EXPECT_FALSE(parsed->bind);
}

TEST(MountOptionsTest, LaterOptionsWin) {
  auto parsed = ParseMountOptions({"ro", "rw", "nosuid", "suid", "noatime", "defaults"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->flags, static_cast<unsigned long>(MS_NOATIME));
  EXPECT_EQ(parsed->data, "");
}

TEST(MountOptionsTest, BindAndPropagation) {
  auto parsed = ParseMountOptions({"rbind", "ro", "rslave", "private"});
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->bind);
  EXPECT_EQ(parsed->flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_THAT(parsed->propagation, ElementsAre(MS_SLAVE | MS_REC, MS_PRIVATE));
  auto bind = ParseMountOptions({"bind"});
  ASSERT_TRUE(bind);
  EXPECT_EQ(bind->flags, static_cast<unsigned long>(MS_BIND));
}

TEST(MountOptionsTest, RecursiveAttributes) {
  auto parsed = ParseMountOptions({"rbind", "rro", "rnosuid", "rnoatime"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->attr_set, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME});
  EXPECT_EQ(parsed->attr_clr, uint64_t{MOUNT_ATTR__ATIME});
  auto cleared = ParseMountOptions({"rro", "rrw"});
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->attr_set, 0U);
  EXPECT_EQ(cleared->attr_clr, uint64_t{MOUNT_ATTR_RDONLY});
}

TEST(MountOptionsTest, RefusesIdmap) {
  auto parsed = ParseMountOptions({"rbind", "idmap"});
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().ToString(), HasSubstr("idmap"));
}

TEST(MountOptionsTest, Propagation) {
  EXPECT_EQ(ParsePropagation("").value(), 0UL);
  EXPECT_EQ(ParsePropagation("rshared").value(), static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(ParsePropagation("unbindable").value(), static_cast<unsigned long>(MS_UNBINDABLE));
  EXPECT_FALSE(ParsePropagation("sharedish"));
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-rootfs-plan-");
    ASSERT_TRUE(dir);
    bundle_ = std::make_unique<os::TempDir>(std::move(*dir));
    ASSERT_TRUE(os::MkdirAll(bundle_->path() + "/rootfs"));
    ASSERT_TRUE(os::MkdirAll(bundle_->path() + "/data"));
    ASSERT_TRUE(os::WriteFile(bundle_->path() + "/hostname", "box\n"));
    spec_.root.path = "rootfs";
    spec_.linux_config.emplace();
    context_.bundle = bundle_->path();
    context_.rootfs = bundle_->path() + "/rootfs";
  }

  Result<std::shared_ptr<const RootfsPlan>> Plan() { return PlanRootfs(spec_, context_); }

  std::unique_ptr<os::TempDir> bundle_;
  oci::Spec spec_;
  RootfsContext context_;
};

TEST_F(PlanTest, MissingRootfs) {
  context_.rootfs = bundle_->path() + "/nothere";
  auto plan = Plan();
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().ToString(), HasSubstr("root.path"));
}

TEST_F(PlanTest, RootfsFromSpecRelativeToBundle) {
  context_.rootfs.clear();
  auto plan = Plan();
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ((*plan)->rootfs, bundle_->path() + "/rootfs");
}

TEST_F(PlanTest, RelativeDestination) {
  spec_.mounts.push_back({"/proc", "proc", "proc", {}, {}, {}});
  spec_.mounts.push_back({"tmp", "tmpfs", "tmpfs", {}, {}, {}});
  auto plan = Plan();
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().ToString(), HasSubstr("mounts[1].destination \"tmp\": not absolute"));
}

TEST_F(PlanTest, MissingBindSource) {
  spec_.mounts.push_back({"/data", "bind", "nothere", {"rbind"}, {}, {}});
  auto plan = Plan();
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().ToString(), HasSubstr("mounts[0].source"));
  EXPECT_THAT(plan.error().ToString(), HasSubstr("nothere"));
}

TEST_F(PlanTest, BadPropagationAndDevice) {
  spec_.linux_config->rootfs_propagation = "sideways";
  auto plan = Plan();
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().ToString(), HasSubstr("linux.rootfsPropagation"));
  spec_.linux_config->rootfs_propagation.clear();
  spec_.linux_config->devices.push_back({"x", "/dev/foo", 1, 2, {}, {}, {}});
  plan = Plan();
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().ToString(), HasSubstr("linux.devices[0].type"));
}

TEST_F(PlanTest, Mounts) {
  spec_.mounts.push_back({"/data", "none", "data", {"rbind", "ro", "rshared"}, {}, {}});
  spec_.mounts.push_back({"/etc/hostname", "bind", "hostname", {"bind"}, {}, {}});
  spec_.mounts.push_back({"/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"}, {}, {}});
  spec_.mounts.push_back({"/sys", "sysfs", "sysfs", {"ro"}, {}, {}});
  context_.new_user_ns = true;
  auto plan = Plan();
  ASSERT_TRUE(plan) << plan.error().ToString();
  const auto& mounts = (*plan)->mounts;
  ASSERT_EQ(mounts.size(), 4U);
  EXPECT_EQ(mounts[0].kind, MountKind::kBind);
  EXPECT_EQ(mounts[0].source, bundle_->path() + "/data");
  EXPECT_FALSE(mounts[0].source_is_file);
  EXPECT_EQ(mounts[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_THAT(mounts[0].propagation, ElementsAre(MS_SHARED | MS_REC));
  EXPECT_EQ(mounts[1].kind, MountKind::kBind);
  EXPECT_TRUE(mounts[1].source_is_file);
  EXPECT_EQ(mounts[2].kind, MountKind::kFilesystem);
  EXPECT_EQ(mounts[2].data, "mode=755");
  EXPECT_EQ(mounts[3].fallback_bind, "/sys");  // user namespace without a network namespace
  EXPECT_FALSE((*plan)->use_mknod);
  EXPECT_EQ((*plan)->root_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

TEST_F(PlanTest, DevicesAndLinks) {
  spec_.linux_config->devices.push_back({"c", "/dev/null", 1, 3, 0600, 1000, 1000});
  spec_.linux_config->devices.push_back({"b", "/dev/loop9", 7, 9, {}, {}, {}});
  auto plan = Plan();
  ASSERT_TRUE(plan) << plan.error().ToString();
  int nulls = 0;
  bool loop = false;
  for (const DeviceStep& d : (*plan)->devices) {
    if (d.path == "/dev/null") {
      ++nulls;
      EXPECT_EQ(d.mode, static_cast<mode_t>(S_IFCHR | 0600));
      EXPECT_EQ(d.uid, 1000U);
    }
    loop = loop || (d.path == "/dev/loop9" && d.mode == (S_IFBLK | 0666));
  }
  EXPECT_EQ(nulls, 1);
  EXPECT_TRUE(loop);
  EXPECT_EQ((*plan)->devices.size(), 7U);
  bool ptmx = false;
  for (const LinkStep& l : (*plan)->links) {
    ptmx = ptmx || (l.path == "/dev/ptmx" && l.target == "pts/ptmx");
  }
  EXPECT_TRUE(ptmx);
}

TEST_F(PlanTest, DevBindSkipsDeviceSetup) {
  ASSERT_TRUE(os::MkdirAll(bundle_->path() + "/dev"));
  spec_.mounts.push_back({"//dev/", "bind", "dev", {"rbind"}, {}, {}});
  auto plan = Plan();
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_FALSE((*plan)->setup_dev);
  EXPECT_TRUE((*plan)->devices.empty());
}

TEST(CgroupHierarchiesTest, ParsesMountinfo) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = dir->path() + "/mountinfo";
  ASSERT_TRUE(os::WriteFile(
      path,
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
      "40 31 0:37 /sub /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
      "42 31 0:29 / /elsewhere/cpu rw - cgroup cgroup rw,cpu,cpuacct\n"));
  auto list = ReadCgroupV1Hierarchies(path);
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->size(), 3U);
  EXPECT_EQ((*list)[0].name, "cpu,cpuacct");
  EXPECT_EQ((*list)[0].key, "cpu,cpuacct");
  EXPECT_THAT((*list)[0].links, ElementsAre("cpu", "cpuacct"));
  EXPECT_EQ((*list)[1].key, "name=systemd");
  EXPECT_EQ((*list)[1].mount_root, "/sub");
  EXPECT_EQ((*list)[2].name, "unified");
  EXPECT_EQ((*list)[2].key, "");
  EXPECT_EQ((*list)[2].fs_type, "cgroup2");
}

// Escapes through an absolute symlink, a relative one and ".." all end inside the root.
TEST(SafePathTest, CreatesInsideRoot) {
  auto root_dir = os::TempDir::Create("comet-root-");
  auto outside = os::TempDir::Create("comet-outside-");
  ASSERT_TRUE(root_dir && outside);
  const std::string& root = root_dir->path();
  ASSERT_EQ(::symlink(outside->path().c_str(), (root + "/etc").c_str()), 0);
  ASSERT_EQ(::symlink("../../..", (root + "/a").c_str()), 0);
  os::UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root_fd.valid());
  for (const char* path : {"/etc/x/y", "/a/b", "/../../outside", "/a/../../c/d"}) {
    os::UniqueFd fd(OpenOrCreateInRoot(root_fd.get(), path, CreateAs::kDirectory));
    EXPECT_TRUE(fd.valid()) << path << ": " << ::strerrorname_np(errno);
  }
  os::UniqueFd file(OpenOrCreateInRoot(root_fd.get(), "/etc/passwd", CreateAs::kFile));
  EXPECT_TRUE(file.valid());
  EXPECT_TRUE(os::IsDirectory(root + outside->path() + "/x/y"));
  EXPECT_TRUE(os::Exists(root + outside->path() + "/passwd"));
  EXPECT_TRUE(os::IsDirectory(root + "/b"));
  EXPECT_TRUE(os::IsDirectory(root + "/outside"));
  EXPECT_TRUE(os::IsDirectory(root + "/c/d"));
  EXPECT_FALSE(os::Exists(outside->path() + "/x"));
  EXPECT_FALSE(os::Exists(outside->path() + "/passwd"));
  // Nothing resolves outside either.
  os::UniqueFd none(OpenInRoot(root_fd.get(), "/etc/../../../../nothere", O_PATH));
  EXPECT_FALSE(none.valid());
  char name[256];
  os::UniqueFd parent(OpenParentInRoot(root_fd.get(), "/dev/pts/ptmx", name, sizeof(name)));
  ASSERT_TRUE(parent.valid());
  EXPECT_STREQ(name, "ptmx");
  EXPECT_TRUE(os::IsDirectory(root + "/dev/pts"));
  EXPECT_FALSE(OpenParentInRoot(root_fd.get(), "/dev/..", name, sizeof(name)) >= 0);
}

TEST(SafePathTest, FdPath) {
  EXPECT_STREQ(FdPath(0).Path(), "/proc/self/fd/0");
  EXPECT_STREQ(FdPath(1234).Path(), "/proc/self/fd/1234");
}

}  // namespace
}  // namespace comet::runtime
