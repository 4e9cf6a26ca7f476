// The container's filesystem: mounts, devices, /dev links, rootfs propagation, pivot_root (or
// MS_MOVE + chroot with --no-pivot), masked and readonly paths, a readonly root.
//
// Two halves. PlanRootfs runs in the runtime's parent process: it reads the spec, resolves and
// checks everything that can be checked there, and builds a RootfsPlan whose strings and arrays
// are all allocated up front. The Apply* functions run in the container's init process between
// clone and exec: async-signal-safe, no allocation, no exceptions; they only read the plan, use
// fixed buffers, and report failures through ChildReport.
#ifndef COMET_RUNTIME_LINUX_ROOTFS_H_
#define COMET_RUNTIME_LINUX_ROOTFS_H_

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "runtime/linux/child_report.h"

namespace comet::runtime {

struct RootfsPlan;  // defined in rootfs_plan.h; opaque to callers

struct RootfsContext {
  std::string bundle;        // absolute bundle dir
  std::string rootfs;        // absolute root.path
  bool rootless = false;     // euid != 0 or --rootless: devices are bind-mounted, not mknod'ed
  bool new_user_ns = false;  // the container has its own user namespace
  bool new_mount_ns = true;
  bool new_cgroup_ns = false;
  bool no_pivot = false;
  // /proc/self/mountinfo as the caller read it (create reads it once for the cgroup layout
  // too); null: read when needed.
  const std::string* mountinfo = nullptr;
};

// Fails with a message naming the field, e.g. `mounts[3].destination "foo": not absolute`, or
// `root.path "/x/rootfs": no such directory`.
[[nodiscard]] Result<std::shared_ptr<const RootfsPlan>> PlanRootfs(const oci::Spec& spec,
                                                                   const RootfsContext& context);

// In the container's init, in its new mount namespace, before the createRuntime hooks:
// makes / private (or as rootfsPropagation says), bind-mounts the rootfs onto itself, performs
// every mount (destinations resolved inside the rootfs, created when missing, never escaping
// through ".." or symlinks), creates devices and the /dev links. Returns 0 or -1 with `report`.
int ApplyMounts(const RootfsPlan& plan, ChildReport* report) noexcept;

// After the createContainer hooks: pivot_root into the rootfs (or move + chroot), detaches the
// old root, sets rootfsPropagation. Returns 0 or -1 with `report`.
int ApplyPivot(const RootfsPlan& plan, ChildReport* report) noexcept;

// After pivot: masked paths, readonly paths, remount / readonly when root.readonly. Returns 0
// or -1 with `report`.
int ApplyFinalize(const RootfsPlan& plan, ChildReport* report) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_ROOTFS_H_
