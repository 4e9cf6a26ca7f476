// ParseJsonObject; see json_doc.h.
#include "network/json_doc.h"

#include <fmt/format.h>

namespace comet::network {

Result<json::Json> ParseJsonObject(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{}: {} bytes, more than the limit of {}", what, text.size(), max_bytes)));
  }
  if (auto at = json::TooDeepAt(text, kMaxJsonDepth)) {
    return Err(Error::Invalid(fmt::format("{}: invalid JSON at byte {}: nesting deeper than {}",
                                          what, *at, kMaxJsonDepth)));
  }
  auto root = json::Parse(text);
  if (!root) {
    const json::ParseFailure& failure = root.error();
    if (!failure.byte) {
      return Err(Error::Invalid(fmt::format("{}: invalid JSON: {}", what, failure.reason)));
    }
    return Err(Error::Invalid(
        fmt::format("{}: invalid JSON at byte {}: {}", what, *failure.byte, failure.reason)));
  }
  if (!root->is_object()) {
    return Err(
        Error::Invalid(fmt::format("{}: expected a JSON object, got {}", what, root->type_name())));
  }
  return *std::move(root);
}

}  // namespace comet::network
