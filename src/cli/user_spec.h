// `exec --user uid[:gid]` and `--additional-gids` values, checked before they reach the runtime.
// Pure functions, thread-safe.
#ifndef COMET_CLI_USER_SPEC_H_
#define COMET_CLI_USER_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::cli {

struct UserIds {
  uint32_t uid = 0;
  std::optional<uint32_t> gid;  // absent: the container process's configured gid stays
};

// Parses a numeric id; `what` names it in errors ("uid", "gid"). (uid_t)-1 is refused: the
// kernel reads it as "leave unchanged".
[[nodiscard]] Result<uint32_t> ParseId(std::string_view text, std::string_view what);

// Parses "uid" or "uid:gid" (numbers only, as runc: names would need the container's
// /etc/passwd, which a runtime does not read).
[[nodiscard]] Result<UserIds> ParseUser(std::string_view text);

// Parses each --additional-gids value; a value may also hold a comma-separated list.
[[nodiscard]] Result<std::vector<uint32_t>> ParseGids(const std::vector<std::string>& values);

}  // namespace comet::cli

#endif  // COMET_CLI_USER_SPEC_H_
