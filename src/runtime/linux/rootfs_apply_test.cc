// Privileged tests of the child-side rootfs setup: a tiny rootfs in a temp dir, set up in a
// forked child with its own mount namespace — as root, and as an unprivileged uid in a user
// namespace (the rootless path) — then checked from inside the container.
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "runtime/linux/rootfs.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::runtime {
namespace {

constexpr uid_t kNobody = 65534;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The mountinfo line whose mount point is `point`, or "".
std::string MountLine(const std::string& point) {
  std::istringstream in(ReadAll("/proc/self/mountinfo"));
  std::string line;
  std::string found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f[5];
    for (auto& x : f) {
      fields >> x;
    }
    if (f[4] == point) {
      found = line;  // the last one is the visible one
    }
  }
  return found;
}

bool IsCharDevice(const char* path, unsigned int major_num, unsigned int minor_num) {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == major_num &&
         minor(st.st_rdev) == minor_num;
}

bool WriteFails(const char* path, int expected_errno) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == expected_errno;
}

constexpr char kMarker[] = "/comet-old-root-marker";

// Mounts a tmpfs at `bundle` + kMarker (outside the rootfs), then sets up the rootfs.
int Apply(const RootfsPlan& plan, const std::string& bundle) {
  std::string marker = bundle + kMarker;
  CHILD_CHECK(::mkdir(marker.c_str(), 0755) == 0 || errno == EEXIST);
  CHILD_CHECK(::mount("tmpfs", marker.c_str(), "tmpfs", 0, nullptr) == 0);
  ChildReport report;
  if (ApplyMounts(plan, &report) != 0 || ApplyPivot(plan, &report) != 0 ||
      ApplyFinalize(plan, &report) != 0) {
    (void)std::fprintf(stderr, "%s %s: %s\n", report.stage, report.detail,
                       ::strerrorname_np(report.err));
    return 1;
  }
  return 0;
}

class RootfsApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (mount namespaces, mknod)";
    }
    auto dir = os::TempDir::Create("comet-rootfs-apply-");
    ASSERT_TRUE(dir);
    bundle_ = std::make_unique<os::TempDir>(std::move(*dir));
    ASSERT_EQ(::chmod(bundle_->path().c_str(), 0755), 0);
    rootfs_ = bundle_->path() + "/rootfs";
    ASSERT_TRUE(os::MkdirAll(rootfs_ + "/secretdir"));
    ASSERT_TRUE(os::WriteFile(rootfs_ + "/secretdir/key", "k"));
    ASSERT_TRUE(os::WriteFile(rootfs_ + "/secret.txt", "s"));
    ASSERT_TRUE(os::MkdirAll(bundle_->path() + "/data"));
    ASSERT_TRUE(os::WriteFile(bundle_->path() + "/data/hello", "hello"));
    ASSERT_TRUE(os::WriteFile(bundle_->path() + "/hostname", "box\n"));

    spec_.root.path = "rootfs";
    spec_.root.readonly = true;
    spec_.mounts = {
        {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, {}, {}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, {}, {}},
        {"/dev/pts",
         "devpts",
         "devpts",
         {"nosuid", "noexec", "newinstance", "ptmxmode=0666"},
         {},
         {}},
        {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777"}, {}, {}},
        {"/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}, {}, {}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}, {}, {}},
        {"/data", "bind", "data", {"rbind", "ro", "nosuid"}, {}, {}},
        {"/etc/hostname", "bind", "hostname", {"bind", "ro"}, {}, {}},
    };
    spec_.linux_config.emplace();
    spec_.linux_config->masked_paths = {"/secretdir", "/secret.txt", "/proc/kcore", "/nothere"};
    spec_.linux_config->readonly_paths = {"/proc/sys", "/nothere/either"};
    context_.bundle = bundle_->path();
    context_.rootfs = rootfs_;
  }

  std::shared_ptr<const RootfsPlan> Plan() {
    auto plan = PlanRootfs(spec_, context_);
    EXPECT_TRUE(plan) << plan.error().ToString();
    return plan ? *plan : nullptr;
  }

  std::unique_ptr<os::TempDir> bundle_;
  std::string rootfs_;
  oci::Spec spec_;
  RootfsContext context_;
};

// The "cgroup" mount on this v1 host: a tmpfs of binds of the process's own groups.
int CheckCgroupMount() {
  struct statfs fs {};
  CHILD_CHECK(::statfs("/sys/fs/cgroup", &fs) == 0 &&
              static_cast<unsigned long>(fs.f_type) == TMPFS_MAGIC);
  CHILD_CHECK(::access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0);
  CHILD_CHECK(::access("/sys/fs/cgroup/systemd/cgroup.procs", F_OK) == 0);
  CHILD_CHECK(WriteFails("/sys/fs/cgroup/memory/x", EROFS));
  CHILD_CHECK(WriteFails("/sys/fs/cgroup/x", EROFS));
  struct statvfs vfs {};
  CHILD_CHECK(::statvfs("/sys/fs/cgroup/memory", &vfs) == 0 &&
              (vfs.f_flag & (ST_RDONLY | ST_NOSUID | ST_NOEXEC | ST_NODEV)) ==
                  (ST_RDONLY | ST_NOSUID | ST_NOEXEC | ST_NODEV));
  return 0;
}

// What every container here must look like, root or rootless.
int CheckContainer() {
  char cwd[256];
  CHILD_CHECK(::getcwd(cwd, sizeof(cwd)) != nullptr && std::string(cwd) == "/");
  CHILD_CHECK(IsCharDevice("/dev/null", 1, 3));
  CHILD_CHECK(IsCharDevice("/dev/urandom", 1, 9));
  CHILD_CHECK(::access("/dev/null", R_OK | W_OK) == 0);
  char link[64] = {};
  CHILD_CHECK(::readlink("/dev/fd", link, sizeof(link) - 1) > 0 &&
              std::string(link) == "/proc/self/fd");
  std::memset(link, 0, sizeof(link));
  CHILD_CHECK(::readlink("/dev/ptmx", link, sizeof(link) - 1) > 0 &&
              std::string(link) == "pts/ptmx");
  CHILD_CHECK(::access("/dev/pts/ptmx", F_OK) == 0);
  CHILD_CHECK(::access("/proc/self/status", R_OK) == 0);
  CHILD_CHECK(ReadAll("/data/hello") == "hello");
  CHILD_CHECK(WriteFails("/data/new", EROFS));
  CHILD_CHECK(ReadAll("/etc/hostname") == "box\n");
  CHILD_CHECK(WriteFails("/newfile", EROFS));  // root.readonly
  CHILD_CHECK(os::WriteFile("/tmp/ok", "x").has_value());
  CHILD_CHECK(os::WriteFile("/dev/shm/ok", "x").has_value());
  struct stat st {};
  CHILD_CHECK(::stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
  struct statvfs vfs {};
  CHILD_CHECK(::statvfs("/proc/sys", &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0);
  CHILD_CHECK(::statvfs("/proc", &vfs) == 0 && (vfs.f_flag & ST_RDONLY) == 0);
  CHILD_CHECK(IsCharDevice("/secret.txt", 1, 3) && ReadAll("/secret.txt").empty());
  CHILD_CHECK(::access("/secretdir/key", F_OK) != 0 && errno == ENOENT);
  CHILD_CHECK(WriteFails("/secretdir/x", EROFS));
  CHILD_CHECK(::access("/sys/kernel", F_OK) == 0);
  CHILD_CHECK(WriteFails("/sys/kernel/x", EROFS));
  CHILD_CHECK(MountLine("/proc/sys").find(" ro,") != std::string::npos);
  // The old root is gone: the marker mounted on the host side before setup is not listed.
  CHILD_CHECK(ReadAll("/proc/self/mountinfo").find(kMarker) == std::string::npos);
  CHILD_CHECK(!MountLine("/").empty());
  return 0;
}

TEST_F(RootfsApplyTest, AsRoot) {
  spec_.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"}, {}, {}});
  spec_.linux_config->devices.push_back({"c", "/dev/custom/zero", 1, 5, 0640, 12, 34});
  auto plan = Plan();
  ASSERT_TRUE(plan);
  std::string bundle = bundle_->path();
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
    if (Apply(*plan, bundle) != 0) {
      return 1;
    }
    struct stat st {};
    CHILD_CHECK(::stat("/dev/custom/zero", &st) == 0 && S_ISCHR(st.st_mode));
    CHILD_CHECK((st.st_mode & 07777) == 0640 && st.st_uid == 12 && st.st_gid == 34);
    CHILD_CHECK(::stat("/dev/null", &st) == 0 && (st.st_mode & 07777) == 0666);
    // The memory group bound there is the process's own (a nested one on this machine).
    std::string pid = std::to_string(::getpid()) + "\n";
    CHILD_CHECK(ReadAll("/sys/fs/cgroup/memory/cgroup.procs").find(pid) != std::string::npos);
    CHILD_CHECK(::access("/sys/fs/cgroup/unified", F_OK) != 0);  // no view of the host's tree
    return CheckCgroupMount() != 0 ? 1 : CheckContainer();
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// In its own cgroup namespace the container gets fresh mounts of each hierarchy, rooted at its
// own groups.
TEST_F(RootfsApplyTest, CgroupNamespace) {
  context_.new_cgroup_ns = true;
  spec_.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"}, {}, {}});
  auto plan = Plan();
  ASSERT_TRUE(plan);
  std::string bundle = bundle_->path();
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_CHECK(::unshare(CLONE_NEWNS | CLONE_NEWCGROUP) == 0);
    if (Apply(*plan, bundle) != 0) {
      return 1;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    CHILD_CHECK(ReadAll("/sys/fs/cgroup/memory/cgroup.procs").find(pid) != std::string::npos);
    CHILD_CHECK(MountLine("/sys/fs/cgroup/memory").find(" / /sys/fs/cgroup/memory ") !=
                std::string::npos);
    return CheckCgroupMount() != 0 ? 1 : CheckContainer();
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(RootfsApplyTest, SharedPropagation) {
  spec_.linux_config->rootfs_propagation = "rshared";
  for (bool no_pivot : {false, true}) {
    context_.no_pivot = no_pivot;
    auto plan = Plan();
    ASSERT_TRUE(plan);
    std::string bundle = bundle_->path();
    auto outcome = testing::RunInChild([&]() -> int {
      CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
      if (Apply(*plan, bundle) != 0) {
        return 1;
      }
      CHILD_CHECK(MountLine("/").find("shared:") != std::string::npos);
      return CheckContainer();
    });
    EXPECT_EQ(outcome.exit_code, 0) << "no_pivot=" << no_pivot << "\n" << outcome.output;
  }
}

TEST_F(RootfsApplyTest, NoPivot) {
  context_.no_pivot = true;
  auto plan = Plan();
  ASSERT_TRUE(plan);
  std::string bundle = bundle_->path();
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
    if (Apply(*plan, bundle) != 0) {
      return 1;
    }
    CHILD_CHECK(MountLine("/").find("shared:") == std::string::npos);
    return CheckContainer();
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

int ChownTree(const char* path, const struct stat* /*st*/, int /*type*/, struct FTW* /*ftw*/) {
  return ::lchown(path, kNobody, kNobody);
}

// The rootless path: an unprivileged uid maps itself to root in a new user namespace (with a
// new PID namespace so that it may mount proc), then sets up the same container. mknod is
// refused there, so devices are bind mounts; sysfs needs a network namespace it does not own,
// so /sys falls back to a bind of the host's; remounts must keep the locked flags.
TEST_F(RootfsApplyTest, RootlessInUserNamespace) {
  context_.rootless = true;
  context_.new_user_ns = true;
  spec_.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"}, {}, {}});
  // A source whose nosuid/nodev/noexec the user namespace inherits locked: the "ro" remount
  // must keep them or the kernel refuses it.
  spec_.mounts.push_back({"/locked", "bind", "locked", {"rbind", "ro"}, {}, {}});
  std::string bundle = bundle_->path();
  ASSERT_TRUE(os::MkdirAll(bundle + "/locked"));
  ASSERT_EQ(::nftw(bundle.c_str(), ChownTree, 16, FTW_PHYS), 0);
  auto plan = Plan();
  ASSERT_TRUE(plan);
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
    CHILD_CHECK(::mount("tmpfs", (bundle + "/locked").c_str(), "tmpfs",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0777") == 0);
    CHILD_CHECK(::setgroups(0, nullptr) == 0 && ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0);
    CHILD_CHECK(::prctl(PR_SET_DUMPABLE, 1) == 0);  // setuid cleared it; uid_map needs it
    CHILD_CHECK(::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0);
    CHILD_CHECK(os::WriteFile("/proc/self/setgroups", "deny").has_value());
    CHILD_CHECK(os::WriteFile("/proc/self/uid_map", "0 65534 1").has_value());
    CHILD_CHECK(os::WriteFile("/proc/self/gid_map", "0 65534 1").has_value());
    pid_t pid = ::fork();
    if (pid == 0) {
      if (Apply(*plan, bundle) != 0 || CheckCgroupMount() != 0) {
        ::_exit(1);
      }
      struct statvfs vfs {};
      CHILD_CHECK(::statvfs("/locked", &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0 &&
                  (vfs.f_flag & ST_NOSUID) != 0 && (vfs.f_flag & ST_NODEV) != 0);
      ::_exit(CheckContainer());
    }
    int status = 0;
    CHILD_CHECK(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// A rootfs whose symlinks try to lead outside: every mount must land inside the rootfs, and
// nothing may be created in the outside directory. PlanRootfs rejects escaping destinations
// (rootfs_escape_test.cc); this is the second line of defence: symlinks planted in the rootfs after
// the plan was made (a race with a hostile image or a process sharing the rootfs) still resolve
// inside it.
TEST_F(RootfsApplyTest, DestinationsCannotEscape) {
  auto outside = os::TempDir::Create("comet-outside-");
  ASSERT_TRUE(outside);
  spec_ = oci::Spec{};
  spec_.root.path = "rootfs";
  spec_.mounts = {
      {"/etc/x", "tmpfs", "tmpfs", {}, {}, {}},
      {"/a/b", "tmpfs", "tmpfs", {}, {}, {}},
      {"/etc/hostname", "bind", bundle_->path() + "/hostname", {"bind"}, {}, {}},
  };
  auto plan = Plan();
  ASSERT_TRUE(plan);
  ASSERT_EQ(::symlink(outside->path().c_str(), (rootfs_ + "/etc").c_str()), 0);
  ASSERT_EQ(::symlink("../../..", (rootfs_ + "/a").c_str()), 0);
  std::string root = rootfs_;
  std::string out = outside->path();
  auto outcome = testing::RunInChild([&]() -> int {
    CHILD_CHECK(::unshare(CLONE_NEWNS) == 0);
    ChildReport report;
    if (ApplyMounts(*plan, &report) != 0) {
      (void)std::fprintf(stderr, "%s %s: %s\n", report.stage, report.detail,
                         ::strerrorname_np(report.err));
      return 1;
    }
    struct statfs fs {};
    for (const std::string& path : {root + out + "/x", root + "/b"}) {
      CHILD_CHECK(::statfs(path.c_str(), &fs) == 0 &&
                  static_cast<unsigned long>(fs.f_type) == TMPFS_MAGIC);
    }
    CHILD_CHECK(ReadAll(root + out + "/hostname") == "box\n");
    CHILD_CHECK(::access((out + "/x").c_str(), F_OK) != 0);
    CHILD_CHECK(::access((out + "/hostname").c_str(), F_OK) != 0);
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  // The host side stays empty, also after the mount namespace is gone.
  std::string listing;
  for (const auto* dir : {"/x", "/hostname"}) {
    EXPECT_FALSE(os::Exists(out + dir)) << dir;
  }
  EXPECT_FALSE(os::Exists(bundle_->path() + "/outside"));
}

}  // namespace
}  // namespace comet::runtime
