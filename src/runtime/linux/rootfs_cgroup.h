// The "cgroup" mount on a cgroup v1 host: a tmpfs holding one directory per v1 hierarchy (plus
// the hybrid unified tree), each a bind of the container's own group — or, in a new cgroup
// namespace, a fresh mount of that hierarchy — with symlinks for co-mounted controllers.
// ReadCgroupV1Hierarchies runs in the parent; MountCgroupV1 in the child (no allocation).
#ifndef COMET_RUNTIME_LINUX_ROOTFS_CGROUP_H_
#define COMET_RUNTIME_LINUX_ROOTFS_CGROUP_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/linux/child_report.h"
#include "runtime/linux/rootfs_plan.h"

namespace comet::runtime {

// The cgroup hierarchies mounted under /sys/fs/cgroup according to `mountinfo_path`.
[[nodiscard]] Result<std::vector<CgroupHierarchy>> ReadCgroupV1Hierarchies(
    const std::string& mountinfo_path);
// The same, from the text of a mountinfo file.
[[nodiscard]] std::vector<CgroupHierarchy> ParseCgroupV1Hierarchies(const std::string& text);

// Mounts `step` (a kCgroupV1 step) onto the directory `dest_fd` (an O_PATH fd inside the
// rootfs). The caller's cgroup, read from /proc/self/cgroup, picks each hierarchy's directory.
int MountCgroupV1(const RootfsPlan& plan, const MountStep& step, int root_fd,
                  ChildReport* report) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_ROOTFS_CGROUP_H_
