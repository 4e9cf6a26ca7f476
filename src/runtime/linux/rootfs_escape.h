// Rejects mount destinations that would leave the container's root if they were resolved as
// plain host paths: ".." above "/", or a relative symlink inside the rootfs that climbs out of
// it. The mount itself is always resolved safely (openat2 RESOLVE_IN_ROOT); this check turns an
// attempted escape into a clear error instead of a silently clamped path. Runs in the runtime's
// parent; thread-safe.
#ifndef COMET_RUNTIME_LINUX_ROOTFS_ESCAPE_H_
#define COMET_RUNTIME_LINUX_ROOTFS_ESCAPE_H_

#include <string>

#include "base/result.h"

namespace comet::runtime {

// `field` names the config field in the error ("mounts[2].destination").
[[nodiscard]] Status CheckStaysInRoot(const std::string& rootfs, const std::string& path,
                                      const std::string& field);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_ROOTFS_ESCAPE_H_
