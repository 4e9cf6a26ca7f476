// The user an app runs as: names from the manifest (--user/--group) turned into ids through the
// app's own /etc/passwd and /etc/group, read inside the rootfs with openat2(RESOLVE_IN_ROOT) so
// that an image's symlinks cannot point the lookup at host files. Thread-safe (no state).
#ifndef COMET_SUPERVISOR_USER_LOOKUP_H_
#define COMET_SUPERVISOR_USER_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::supervisor {

// The largest /etc/passwd or /etc/group read (an image's files are hostile input).
inline constexpr size_t kMaxAccountFileBytes = 4 << 20;

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;  // groups listing the user by name, then the explicit ones
  std::string home;                       // from passwd when known, else empty
};

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

// Pure parsers over the files' text: the entry whose name (or, for a number, whose uid) is
// `user`; nullopt when none. Malformed lines are skipped.
[[nodiscard]] std::optional<PasswdEntry> FindPasswdEntry(std::string_view passwd,
                                                         std::string_view user);
// The gid of the group called `group`.
[[nodiscard]] std::optional<uint32_t> FindGroupId(std::string_view group_file,
                                                  std::string_view group);
// The gids of the groups whose member list names `user`.
[[nodiscard]] std::vector<uint32_t> FindMemberGroups(std::string_view group_file,
                                                     std::string_view user);

// Resolves `user` ("1000", "nobody") and `group` ("0", "wheel"; empty: the user's primary group
// from passwd, else 0) inside `rootfs`. Numeric ids need no files; a name that the image does
// not define is an error naming it. `supplementary` gids are appended.
[[nodiscard]] Result<ResolvedUser> ResolveUser(const std::string& rootfs, std::string_view user,
                                               std::string_view group,
                                               const std::vector<uint32_t>& supplementary);

// Reads a file of the rootfs: `path` (absolute, as the container sees it) is resolved with
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS. NotFound when it does not exist.
[[nodiscard]] Result<std::string> ReadFileInRoot(const std::string& rootfs, const std::string& path,
                                                 size_t limit);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_USER_LOOKUP_H_
