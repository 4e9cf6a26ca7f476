// Parsing and image-specific reads of the image documents; see manifest_json.h.
#include "image/manifest_json.h"

#include <utility>

#include <fmt/format.h>

namespace comet::image::internal {

Result<Json> ParseObject(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{} is {} bytes, more than the limit of {}", what, text.size(), max_bytes)));
  }
  if (auto at = json::TooDeepAt(text, kMaxJsonDepth)) {
    return Err(Error::Invalid(fmt::format("invalid {} JSON at byte {}: nesting deeper than {}",
                                          what, *at, kMaxJsonDepth)));
  }
  auto root = json::Parse(text);
  if (!root) {
    const json::ParseFailure& failure = root.error();
    if (!failure.byte) {
      return Err(Error::Invalid(fmt::format("invalid {} JSON: {}", what, failure.reason)));
    }
    return Err(Error::Invalid(
        fmt::format("invalid {} JSON at byte {}: {}", what, *failure.byte, failure.reason)));
  }
  if (!root->is_object()) {
    return Err(Error::Invalid(
        fmt::format("invalid {}: expected a JSON object, got {}", what, root->type_name())));
  }
  return *std::move(root);
}

Status ReadKeySet(const Json& obj, std::string_view key, std::string_view path,
                  std::vector<std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string set_path = ChildPath(path, key);
  RETURN_IF_ERROR(json::ExpectObject(*v, set_path, kWording));
  out->clear();
  for (const auto& [name, value] : v->items()) {
    if (!value.is_null()) {
      RETURN_IF_ERROR(json::ExpectObject(value, ChildPath(set_path, name), kWording));
    }
    out->push_back(name);
  }
  return Ok();
}

Result<Digest> ReadRequiredDigest(const Json& obj, std::string_view key, std::string_view path) {
  std::string text;
  RETURN_IF_ERROR(ReadRequired(obj, key, path, &text));
  auto digest = Digest::Parse(text);
  if (!digest) {
    return Err(PathError(ChildPath(path, key), digest.error().message()));
  }
  return *std::move(digest);
}

}  // namespace comet::image::internal
