// ApplyPivot and ApplyFinalize: the child side of the rootfs setup from pivot_root on.
// No allocation; only for the single-threaded container init (changes its root and cwd).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/linux/rootfs.h"
#include "runtime/linux/rootfs_child.h"
#include "runtime/linux/rootfs_plan.h"
#include "runtime/linux/safe_path.h"

namespace comet::runtime {
namespace {

// pivot_root(".", ".") stacks the old root on top of the new one, so no put_old directory is
// needed in the image; the old root is then detached (after making it a slave, so that the
// unmount does not propagate back to the host).
int PivotRoot(const char* rootfs, ChildReport* report) noexcept {
  int old_root = ::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old_root < 0) {
    return FailStep(report, "open", "/");
  }
  int new_root = ::open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (new_root < 0) {
    return FailStep(report, "open", rootfs, old_root);
  }
  int rc = -1;
  if (::fchdir(new_root) != 0) {
    FailStep(report, "chdir", rootfs);
  } else if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    FailStep(report, "pivot_root", rootfs);
  } else if (::fchdir(old_root) != 0) {
    FailStep(report, "chdir", "old root");
  } else if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    FailStep(report, "mount propagation", "old root");
  } else if (::umount2(".", MNT_DETACH) != 0) {
    FailStep(report, "umount", "old root");
  } else if (::chdir("/") != 0) {
    FailStep(report, "chdir", "/");
  } else {
    rc = 0;
  }
  ::close(old_root);
  ::close(new_root);
  return rc;
}

// --no-pivot: the rootfs moved over "/" and a chroot. Weaker than pivot_root: the old root stays
// reachable from the mount namespace, so a process with CAP_SYS_CHROOT can escape the chroot.
int MoveRoot(const char* rootfs, ChildReport* report) noexcept {
  if (::chdir(rootfs) != 0) {
    return FailStep(report, "chdir", rootfs);
  }
  if (::mount(rootfs, "/", nullptr, MS_MOVE, nullptr) != 0) {
    return FailStep(report, "mount move", rootfs);
  }
  if (::chroot(".") != 0) {
    return FailStep(report, "chroot", rootfs);
  }
  if (::chdir("/") != 0) {
    return FailStep(report, "chdir", "/");
  }
  return 0;
}

// Missing paths are not an error: images differ, and the spec's lists are written for all.
int OpenExisting(int root_fd, const char* path, bool* missing) noexcept {
  int fd = OpenInRoot(root_fd, path, O_PATH);
  *missing = fd < 0 && errno == ENOENT;
  return fd;
}

int ReadonlyPath(int root_fd, const char* path, ChildReport* report) noexcept {
  bool missing = false;
  int fd = OpenExisting(root_fd, path, &missing);
  if (fd < 0) {
    return missing ? 0 : FailStep(report, "readonly path", path);
  }
  FdPath target(fd);
  if (::mount(target.Path(), target.Path(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return FailStep(report, "readonly path", path, fd);
  }
  ::close(fd);
  fd = OpenInRoot(root_fd, path, O_PATH);  // the new bind, not the dir it covers
  if (fd < 0 || RemountBind(FdPath(fd).Path(), MS_RDONLY) != 0) {
    return FailStep(report, "readonly path", path, fd);
  }
  ::close(fd);
  return 0;
}

int MaskPath(int root_fd, const char* path, ChildReport* report) noexcept {
  bool missing = false;
  int fd = OpenExisting(root_fd, path, &missing);
  if (fd < 0) {
    return missing ? 0 : FailStep(report, "masked path", path);
  }
  struct stat st {};
  FdPath target(fd);
  int rc = ::fstat(fd, &st);
  if (rc == 0 && S_ISDIR(st.st_mode)) {
    rc = ::mount("tmpfs", target.Path(), "tmpfs", MS_RDONLY, nullptr);
  } else if (rc == 0) {
    rc = ::mount("/dev/null", target.Path(), nullptr, MS_BIND, nullptr);
  }
  if (rc != 0) {
    return FailStep(report, "masked path", path, fd);
  }
  ::close(fd);
  return 0;
}

}  // namespace

int ApplyPivot(const RootfsPlan& plan, ChildReport* report) noexcept {
  const char* rootfs = plan.rootfs.c_str();
  int rc = plan.no_pivot ? MoveRoot(rootfs, report) : PivotRoot(rootfs, report);
  if (rc != 0) {
    return -1;
  }
  if (plan.rootfs_propagation != 0 &&
      ::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) != 0) {
    return FailStep(report, "mount propagation", "/");
  }
  return 0;
}

int ApplyFinalize(const RootfsPlan& plan, ChildReport* report) noexcept {
  int root_fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    return FailStep(report, "open", "/");
  }
  for (const std::string& path : plan.readonly_paths) {
    if (ReadonlyPath(root_fd, path.c_str(), report) != 0) {
      ::close(root_fd);
      return -1;
    }
  }
  for (const std::string& path : plan.masked_paths) {
    if (MaskPath(root_fd, path.c_str(), report) != 0) {
      ::close(root_fd);
      return -1;
    }
  }
  ::close(root_fd);
  if (plan.readonly && RemountBind("/", MS_RDONLY) != 0) {
    return FailStep(report, "remount readonly", "/");
  }
  return 0;
}

}  // namespace comet::runtime
