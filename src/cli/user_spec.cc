// Parsing of numeric user and group ids for `exec`.
#include "cli/user_spec.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::cli {

Result<uint32_t> ParseId(std::string_view text, std::string_view what) {
  std::optional<unsigned long long> id = ParseUint(text);
  if (!id || *id >= UINT32_MAX) {
    return Err(Error::Invalid(
        fmt::format("invalid {} \"{}\": expected a number below {}", what, text, UINT32_MAX)));
  }
  return static_cast<uint32_t>(*id);
}

Result<UserIds> ParseUser(std::string_view text) {
  UserIds ids;
  size_t colon = text.find(':');
  ASSIGN_OR_RETURN(ids.uid, ParseId(text.substr(0, colon), "uid"));
  if (colon != std::string_view::npos) {
    ASSIGN_OR_RETURN(ids.gid, ParseId(text.substr(colon + 1), "gid"));
  }
  return ids;
}

Result<std::vector<uint32_t>> ParseGids(const std::vector<std::string>& values) {
  std::vector<uint32_t> gids;
  for (const std::string& value : values) {
    for (const std::string& part : Split(value, ',')) {
      ASSIGN_OR_RETURN(uint32_t gid, ParseId(part, "additional gid"));
      gids.push_back(gid);
    }
  }
  return gids;
}

}  // namespace comet::cli
