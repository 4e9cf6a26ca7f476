// ApplyMounts: the child side of the rootfs setup up to pivot_root — propagation of the old
// root, the rootfs bind, every spec mount, devices and /dev links. No allocation; only for the
// single-threaded container init, in its own mount namespace.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "runtime/linux/rootfs.h"
#include "runtime/linux/rootfs_cgroup.h"
#include "runtime/linux/rootfs_child.h"
#include "runtime/linux/rootfs_plan.h"
#include "runtime/linux/safe_path.h"

namespace comet::runtime {

int RemountBind(const char* path, unsigned long flags) noexcept {
  if (::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) == 0) {
    return 0;
  }
  struct statvfs fs {};
  if (errno != EPERM || ::statvfs(path, &fs) != 0) {
    return -1;
  }
  static constexpr struct {
    unsigned long st;
    unsigned long ms;
  } kLocked[] = {{ST_RDONLY, MS_RDONLY},    {ST_NOSUID, MS_NOSUID},
                 {ST_NODEV, MS_NODEV},      {ST_NOEXEC, MS_NOEXEC},
                 {ST_NOATIME, MS_NOATIME},  {ST_NODIRATIME, MS_NODIRATIME},
                 {ST_RELATIME, MS_RELATIME}};
  for (const auto& f : kLocked) {
    if ((fs.f_flag & f.st) != 0) {
      flags |= f.ms;
    }
  }
  errno = EPERM;
  return ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | flags, nullptr);
}

namespace {

// After the mount itself: the flags a bind needs a remount for, recursive attributes and
// propagation. Works on a fresh fd, since the one used to mount still names the covered dir.
int FinishMount(const MountStep& step, int root_fd, bool as_bind, ChildReport* report) noexcept {
  const char* dest = step.destination.c_str();
  int fd = OpenInRoot(root_fd, dest, O_PATH);
  if (fd < 0) {
    return FailStep(report, "mount", dest);
  }
  FdPath target(fd);
  unsigned long extra = step.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC | MS_REMOUNT);
  if (as_bind && extra != 0 && RemountBind(target.Path(), extra) != 0) {
    return FailStep(report, "remount", dest, fd);
  }
  if (step.attr_set != 0 || step.attr_clr != 0) {
    struct mount_attr attr {};
    attr.attr_set = step.attr_set;
    attr.attr_clr = step.attr_clr;
    if (::mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
      return FailStep(report, "mount_setattr", dest, fd);
    }
  }
  for (unsigned long propagation : step.propagation) {
    if (::mount(nullptr, target.Path(), nullptr, propagation, nullptr) != 0) {
      return FailStep(report, "mount propagation", dest, fd);
    }
  }
  ::close(fd);
  return 0;
}

int ApplyMount(const RootfsPlan& plan, const MountStep& step, int root_fd,
               ChildReport* report) noexcept {
  if (step.kind == MountKind::kCgroupV1) {
    return MountCgroupV1(plan, step, root_fd, report) == 0
               ? FinishMount(step, root_fd, false, report)
               : -1;
  }
  const char* dest = step.destination.c_str();
  int fd = OpenOrCreateInRoot(root_fd, dest,
                              step.source_is_file ? CreateAs::kFile : CreateAs::kDirectory);
  if (fd < 0) {
    return FailStep(report, "mount", dest);
  }
  FdPath target(fd);
  bool as_bind = step.kind == MountKind::kBind;
  int rc = 0;
  if (as_bind) {
    rc = ::mount(step.source.c_str(), target.Path(), nullptr, step.flags & (MS_BIND | MS_REC),
                 nullptr);
  } else {
    const char* data = step.data.empty() ? nullptr : step.data.c_str();
    rc = ::mount(step.source.c_str(), target.Path(), step.type.c_str(), step.flags, data);
    if (rc != 0 && errno == EPERM && !step.fallback_bind.empty()) {
      as_bind = true;
      rc = ::mount(step.fallback_bind.c_str(), target.Path(), nullptr, MS_BIND | MS_REC, nullptr);
    }
  }
  if (rc != 0) {
    return FailStep(report, "mount", dest, fd);
  }
  ::close(fd);
  return FinishMount(step, root_fd, as_bind, report);
}

int CreateDevice(const RootfsPlan& plan, const DeviceStep& device, int root_fd) noexcept {
  if (!plan.use_mknod) {
    // mknod needs CAP_MKNOD in the initial user namespace: bind the host's node instead.
    int fd = OpenOrCreateInRoot(root_fd, device.path.c_str(), CreateAs::kFile);
    if (fd < 0) {
      return -1;
    }
    int rc = ::mount(device.host_path.c_str(), FdPath(fd).Path(), nullptr, MS_BIND, nullptr);
    int err = errno;
    ::close(fd);
    errno = err;
    return rc;
  }
  char name[NAME_MAX + 1];
  int dir = OpenParentInRoot(root_fd, device.path.c_str(), name, sizeof(name));
  if (dir < 0) {
    return -1;
  }
  int rc = ::mknodat(dir, name, device.mode, device.dev);
  if (rc != 0 && errno == EEXIST && ::unlinkat(dir, name, 0) == 0) {
    rc = ::mknodat(dir, name, device.mode, device.dev);  // replace what the image shipped
  }
  // mknod applies the umask; set the mode the spec asked for.
  if (rc == 0) {
    rc = ::fchmodat(dir, name, device.mode & 07777, 0);
  }
  if (rc == 0) {
    rc = ::fchownat(dir, name, device.uid, device.gid, AT_SYMLINK_NOFOLLOW);
  }
  int err = errno;
  ::close(dir);
  errno = err;
  return rc;
}

int SetupDev(const RootfsPlan& plan, int root_fd, ChildReport* report) noexcept {
  for (const DeviceStep& device : plan.devices) {
    if (CreateDevice(plan, device, root_fd) != 0) {
      return FailStep(report, "create device", device.path.c_str());
    }
  }
  char name[NAME_MAX + 1];
  for (const LinkStep& link : plan.links) {
    int dir = OpenParentInRoot(root_fd, link.path.c_str(), name, sizeof(name));
    if (dir < 0) {
      return FailStep(report, "symlink", link.path.c_str());
    }
    if (::symlinkat(link.target.c_str(), dir, name) != 0 && errno != EEXIST) {
      return FailStep(report, "symlink", link.path.c_str(), dir);
    }
    ::close(dir);
  }
  return 0;
}

// Makes the rootfs a mount point of its own, as pivot_root(2) requires. pivot_root and MS_MOVE
// refuse a shared new root or a shared parent of it, so with shared root propagation the rootfs
// is bound twice: the lower bind made private, the upper one a copy of it (private too). As with
// runc, rootfsPropagation then applies to the container's "/" after the pivot, in a peer group
// of its own: the rootfs itself never becomes a peer of a host mount.
int BindRootfs(const RootfsPlan& plan, ChildReport* report) noexcept {
  const char* rootfs = plan.rootfs.c_str();
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return FailStep(report, "bind rootfs", rootfs);
  }
  if ((plan.root_propagation & MS_SHARED) != 0 &&
      (::mount(nullptr, rootfs, nullptr, MS_PRIVATE, nullptr) != 0 ||
       ::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)) {
    return FailStep(report, "bind rootfs", rootfs);
  }
  return 0;
}

}  // namespace

int ApplyMounts(const RootfsPlan& plan, ChildReport* report) noexcept {
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    return FailStep(report, "mount propagation", "/");
  }
  if (BindRootfs(plan, report) != 0) {
    return -1;
  }
  int root_fd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    return FailStep(report, "open", plan.rootfs.c_str());
  }
  for (const MountStep& step : plan.mounts) {
    if (ApplyMount(plan, step, root_fd, report) != 0) {
      ::close(root_fd);
      return -1;
    }
  }
  int rc = plan.setup_dev ? SetupDev(plan, root_fd, report) : 0;
  ::close(root_fd);
  return rc;
}

}  // namespace comet::runtime
