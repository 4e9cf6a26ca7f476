// The image document parsers' (manifest*.cc) view of base/json.h: typed, path-tracking reads from
// untrusted JSON worded with the type found ("layers[2].digest: expected string, got number");
// nothing here throws. JSON null counts as absent. Internal to the image layer; thread-safe.
#ifndef COMET_IMAGE_MANIFEST_JSON_H_
#define COMET_IMAGE_MANIFEST_JSON_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "image/digest.h"

namespace comet::image::internal {

using json::ChildPath;
using json::IndexPath;
using json::Json;
using json::Member;
using json::OrderedJson;
using json::PathError;
using json::Printable;

inline constexpr json::Wording kWording = json::Wording::kNamesType;

// No image document nests deeper than this; deeper input is rejected before it is parsed.
inline constexpr int kMaxJsonDepth = 32;

// Parses `text` (at most `max_bytes`) into a tree whose top level is an object. `what` names
// the document in errors ("manifest", "image config").
[[nodiscard]] Result<Json> ParseObject(std::string_view text, size_t max_bytes,
                                       std::string_view what);

// Compact JSON text; never throws (invalid UTF-8 would be replaced by U+FFFD).
inline std::string Dump(const OrderedJson& value) {
  return json::Dump(value, -1);
}

// Member readers (see json::Read): Read leaves *out untouched when the member is absent;
// ReadRequired fails with "<path>: missing".
template <class T>
[[nodiscard]] Status Read(const Json& obj, std::string_view key, std::string_view path, T* out) {
  return json::Read(obj, key, path, out, kWording);
}
template <class T>
[[nodiscard]] Status ReadRequired(const Json& obj, std::string_view key, std::string_view path,
                                  T* out) {
  return json::ReadRequired(obj, key, path, out, kWording);
}
// The keys of an object whose values are objects or null (ExposedPorts, Volumes).
[[nodiscard]] Status ReadKeySet(const Json& obj, std::string_view key, std::string_view path,
                                std::vector<std::string>* out);
[[nodiscard]] Result<Digest> ReadRequiredDigest(const Json& obj, std::string_view key,
                                                std::string_view path);

}  // namespace comet::image::internal

#endif  // COMET_IMAGE_MANIFEST_JSON_H_
