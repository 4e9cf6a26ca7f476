// Typed, path-tracking reads from untrusted JSON for the image document parsers (manifest*.cc).
// Every mismatch becomes an Error naming the JSON path ("layers[2].digest: expected string");
// nothing here throws. JSON null counts as absent, as Go's encoding/json treats it. Internal to
// the image layer; thread-safe.
#ifndef COMET_IMAGE_MANIFEST_JSON_H_
#define COMET_IMAGE_MANIFEST_JSON_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "image/digest.h"

namespace comet::image::internal {

using Json = nlohmann::json;
// Output keeps the image-spec's field order.
using OrderedJson = nlohmann::ordered_json;

// No image document nests deeper than this; deeper input is rejected before it is parsed.
inline constexpr int kMaxJsonDepth = 32;

// Parses `text` (at most `max_bytes`) into a tree whose top level is an object. `what` names
// the document in errors ("manifest", "image config").
[[nodiscard]] Result<Json> ParseObject(std::string_view text, size_t max_bytes,
                                       std::string_view what);

// Compact JSON text; never throws (invalid UTF-8 would be replaced by U+FFFD).
std::string Dump(const OrderedJson& value);

// `text` with bytes that are not printable ASCII escaped, cut at 200 characters, for quoting
// hostile strings in errors.
std::string Printable(std::string_view text);

// "a.b" / "a[3]" path building; the root path is empty.
std::string ChildPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);
// An EINVAL Error "<path>: <what>", with hostile bytes in the path escaped and cut short.
Error PathError(std::string_view path, std::string_view what);

// The member `key` of object `obj`, or nullptr when absent or null.
const Json* Member(const Json& obj, std::string_view key);

// Member readers. Optional ones leave *out untouched when the member is absent; Required ones
// fail with "<path>: missing".
[[nodiscard]] Status ReadString(const Json& obj, std::string_view key, std::string_view path,
                                std::string* out);
[[nodiscard]] Status ReadRequiredString(const Json& obj, std::string_view key,
                                        std::string_view path, std::string* out);
[[nodiscard]] Status ReadStringArray(const Json& obj, std::string_view key, std::string_view path,
                                     std::vector<std::string>* out);
[[nodiscard]] Status ReadStringMap(const Json& obj, std::string_view key, std::string_view path,
                                   std::map<std::string, std::string>* out);
// The keys of an object whose values are objects or null (ExposedPorts, Volumes).
[[nodiscard]] Status ReadKeySet(const Json& obj, std::string_view key, std::string_view path,
                                std::vector<std::string>* out);
[[nodiscard]] Result<int64_t> ReadRequiredInt(const Json& obj, std::string_view key,
                                              std::string_view path);
[[nodiscard]] Result<Digest> ReadRequiredDigest(const Json& obj, std::string_view key,
                                                std::string_view path);

}  // namespace comet::image::internal

#endif  // COMET_IMAGE_MANIFEST_JSON_H_
