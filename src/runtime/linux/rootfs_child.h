// Mount helpers shared by the child-side halves of the rootfs setup (rootfs_mounts.cc,
// rootfs_pivot.cc). Async-signal-safe, no allocation; -1 with errno on failure.
#ifndef COMET_RUNTIME_LINUX_ROOTFS_CHILD_H_
#define COMET_RUNTIME_LINUX_ROOTFS_CHILD_H_

#include <unistd.h>

#include <cerrno>

#include "runtime/linux/child_report.h"

namespace comet::runtime {

// Records the failed step (with the current errno) in `report`, closes `fd` if given, and
// returns -1, the child side's failure value.
inline int FailStep(ChildReport* report, const char* stage, const char* detail,
                    int fd = -1) noexcept {
  int err = errno;
  if (fd >= 0) {
    ::close(fd);
  }
  report->Set(err, stage, detail);
  return -1;
}

// mount(NULL, path, NULL, MS_REMOUNT|MS_BIND|flags). In a user namespace the kernel locks the
// nosuid/nodev/noexec/ro/atime flags a mount had when it was copied in, and a remount that
// would clear one fails with EPERM; on EPERM this retries keeping the flags statvfs reports.
int RemountBind(const char* path, unsigned long flags) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_ROOTFS_CHILD_H_
