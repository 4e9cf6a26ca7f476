// Parsing of the pod files; see json_fields.h.
#include "pod/json_fields.h"

#include <utility>

#include <fmt/format.h>

namespace comet::pod::internal {

Result<Json> ParseObject(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{}: {} bytes is more than the limit of {}", what, text.size(), max_bytes)));
  }
  if (json::TooDeepAt(text, kMaxJsonDepth)) {
    return Err(
        Error::Invalid(fmt::format("{}: nested deeper than {} levels", what, kMaxJsonDepth)));
  }
  auto tree = json::Parse(text);
  if (!tree) {
    const json::ParseFailure& failure = tree.error();
    std::string_view sep = failure.position.empty() ? "" : ": ";
    return Err(Error::Invalid(
        fmt::format("{}: invalid JSON: {}{}{}", what, failure.position, sep, failure.reason)));
  }
  if (!tree->is_object()) {
    return Err(
        Error::Invalid(fmt::format("{}: expected a JSON object, got {}", what, tree->type_name())));
  }
  return *std::move(tree);
}

}  // namespace comet::pod::internal
