// The mount points at or below a directory, from /proc/self/mountinfo: what teardown unmounts
// and what PodStore::Remove refuses to delete through. Internal to the pod layer; thread-safe.
#ifndef COMET_POD_MOUNT_TABLE_H_
#define COMET_POD_MOUNT_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::pod::internal {

// Mount points (field 5, octal escapes decoded) equal to `dir` or below it, deepest first
// (a mount point stacked several times is listed once per mount). `mountinfo` is the text of a
// mountinfo file; `dir` an absolute path without a trailing slash.
[[nodiscard]] std::vector<std::string> MountPointsUnder(std::string_view mountinfo,
                                                        std::string_view dir);
// The same for this process's mount table; `dir` is made canonical first (realpath), since the
// kernel lists resolved paths.
[[nodiscard]] Result<std::vector<std::string>> CurrentMountPointsUnder(const std::string& dir);

}  // namespace comet::pod::internal

#endif  // COMET_POD_MOUNT_TABLE_H_
