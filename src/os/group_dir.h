// Directories shared with a group: the api-service reads comet's data directory as an
// unprivileged member of a `comet` group (docs/api-service.md). On Linux a setgid directory passes
// its group to everything made in it, and its setgid bit to the directories made in it, so one
// shared directory shares a whole tree; these helpers share a directory so and keep out of the
// share the subtrees the group must not read (the private pools of spares among them).
// Thread-safe (no state).
#ifndef COMET_OS_GROUP_DIR_H_
#define COMET_OS_GROUP_DIR_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace comet::os {

// The gid of the group called `name`; nullopt when there is no such group.
[[nodiscard]] Result<std::optional<gid_t>> LookupGroup(const std::string& name);

// The group `dir` shares what is made in it with: its gid when it is a setgid directory whose
// group is not this process's effective gid; nullopt otherwise, also when `dir` is missing.
[[nodiscard]] std::optional<gid_t> SharedGroup(const std::string& dir);

// Makes the directory `path` (a symlink is refused: ENOTDIR) group `gid` with mode
// `mode` | S_ISGID.
[[nodiscard]] Status ShareDirectory(const std::string& path, gid_t gid, mode_t mode);

// mkdir `path` with `mode` (its parent must exist), or takes the directory already there; when it
// is shared (SharedGroup), it gets this process's effective gid back and `mode` without setgid,
// so nothing made below it is shared. A symlink is refused (ENOTDIR).
[[nodiscard]] Status MakeUnsharedDir(const std::string& path, mode_t mode);

// `st` (an lstat) is a directory of this process's effective user that no one else may write
// to; the path form lstats `path` (a symlink is not one).
[[nodiscard]] bool IsOwnDirectory(const struct stat& st);
[[nodiscard]] bool IsOwnDirectory(const std::string& path);

// A pool of spares kept to spare disk work (spare snapshots, spare pod directories): `path` made
// 0700 out of any group share (MakeUnsharedDir), and the names in it. EPERM unless it is an
// IsOwnDirectory; ENOSPC when it holds `max` entries or more already.
[[nodiscard]] Result<std::vector<std::string>> OpenSparePool(const std::string& path, size_t max);

}  // namespace comet::os

#endif  // COMET_OS_GROUP_DIR_H_
