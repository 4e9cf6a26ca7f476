// RootfsPlan: what the container's init does to build its filesystem, computed by PlanRootfs in
// the parent. Every string is built before clone; the child side only reads .c_str() and sizes.
// Plain data; immutable once built, so sharing it between threads is safe.
#ifndef COMET_RUNTIME_LINUX_ROOTFS_PLAN_H_
#define COMET_RUNTIME_LINUX_ROOTFS_PLAN_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/linux/rootfs.h"

namespace comet::runtime {

enum class MountKind {
  kFilesystem,  // mount(source, dest, type, flags, data)
  kBind,        // bind `source` (absolute host path), then remount for the flags
  kCgroupV1,    // tmpfs at dest plus one bind per v1 hierarchy (RootfsPlan::cgroup_hierarchies)
};

struct MountStep {
  MountKind kind = MountKind::kFilesystem;
  std::string destination;  // absolute, as the container sees it (resolved inside the rootfs)
  std::string source;
  std::string type;
  std::string data;
  unsigned long flags = 0;                 // without propagation flags
  std::vector<unsigned long> propagation;  // applied in order after mounting
  uint64_t attr_set = 0;                   // mount_setattr(AT_RECURSIVE); both 0 = none
  uint64_t attr_clr = 0;
  bool source_is_file = false;  // the destination is created as a file, not a directory
  // When the kernel refuses the mount with EPERM (a user namespace that does not own the
  // network, IPC or cgroup namespace), rbind this host path instead, as runc does. Empty = none.
  std::string fallback_bind;
};

// One v1 hierarchy of the host, bound into the container's cgroup tmpfs.
struct CgroupHierarchy {
  std::string name;        // directory under the mount destination: "cpu,cpuacct", "systemd"
  std::string key;         // its field in /proc/self/cgroup: "cpu,cpuacct", "name=systemd", ""
  std::string host_mount;  // "/sys/fs/cgroup/cpu,cpuacct"
  std::string mount_root;  // root of that mount within the hierarchy (mountinfo field 4)
  std::string fs_type;     // "cgroup" or "cgroup2" (the hybrid unified tree)
  std::string fs_options;  // "cpu,cpuacct" for mounting it afresh in a cgroup namespace
  std::vector<std::string> links;  // "cpu", "cpuacct": symlinks to `name` for co-mounts
};

struct DeviceStep {
  std::string path;       // absolute inside the container: "/dev/null"
  std::string host_path;  // bound onto an empty file when mknod is not allowed
  mode_t mode = 0;        // S_IFCHR|0666 ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct LinkStep {
  std::string target;  // "/proc/self/fd"
  std::string path;    // "/dev/fd"
};

struct RootfsPlan {
  std::string rootfs;  // absolute host path of root.path
  bool readonly = false;
  bool no_pivot = false;
  bool use_mknod = true;                 // false when rootless or in a user namespace
  unsigned long root_propagation = 0;    // applied to the old "/" first: MS_SLAVE|MS_REC by default
  unsigned long rootfs_propagation = 0;  // linux.rootfsPropagation, re-applied after pivot
  bool new_cgroup_ns = false;
  std::vector<MountStep> mounts;
  std::vector<CgroupHierarchy> cgroup_hierarchies;
  bool setup_dev = true;  // false when /dev is a bind mount: devices and links come with it
  std::vector<DeviceStep> devices;
  std::vector<LinkStep> links;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
};

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_ROOTFS_PLAN_H_
