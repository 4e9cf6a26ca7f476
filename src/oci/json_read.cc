// Parsing of config.json text; see json_read.h.
#include "oci/json_read.h"

#include <fmt/format.h>

namespace comet::oci::internal {

Result<Json> ParseObjectText(std::string_view text) {
  if (auto at = json::TooDeepAt(text, kMaxDepth)) {
    return Err(Error::Invalid(
        fmt::format("invalid JSON at byte {}: nesting deeper than {}", *at + 1, kMaxDepth)));
  }
  auto root = json::Parse(text);
  if (!root) {
    const json::ParseFailure& failure = root.error();
    if (!failure.byte) {
      return Err(Error::Invalid(fmt::format("invalid JSON: {}", failure.reason)));
    }
    return Err(
        Error::Invalid(fmt::format("invalid JSON at byte {}: {}", *failure.byte, failure.reason)));
  }
  if (!root->is_object()) {
    return Err(Error::Invalid(fmt::format("expected a JSON object, got {}", root->type_name())));
  }
  return *std::move(root);
}

}  // namespace comet::oci::internal
