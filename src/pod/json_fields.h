// Typed, path-tracking reads of pod files (manifest, status files) with nlohmann::json: every
// mismatch becomes an Error naming the JSON path ("apps[1].name: expected string, got number"),
// and nothing here throws. JSON null counts as absent. Internal to the pod layer; thread-safe.
#ifndef COMET_POD_JSON_FIELDS_H_
#define COMET_POD_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace comet::pod::internal {

using Json = nlohmann::json;
// Output keeps the structs' field order, so that `cat-manifest` reads like the struct.
using OrderedJson = nlohmann::ordered_json;

// No pod file nests deeper than this; deeper input is rejected before it is parsed.
inline constexpr int kMaxJsonDepth = 16;

// Parses `text` (at most `max_bytes`) into a tree whose top level is an object. `what` names the
// document in errors ("pod manifest").
[[nodiscard]] Result<Json> ParseObject(std::string_view text, size_t max_bytes,
                                       std::string_view what);
// JSON text, compact or indented by 2; never throws (invalid UTF-8 becomes U+FFFD).
std::string Dump(const OrderedJson& value, bool pretty);

// "a.b" / "a[3]"; the root path is empty.
std::string ChildPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);
// An EINVAL Error "<path>: <what>", with hostile bytes escaped and the path cut short.
Error PathError(std::string_view path, std::string_view what);
// `text` with bytes that are not printable ASCII escaped, cut at 200 characters.
std::string Printable(std::string_view text);

// Reads members of one JSON object; `path` is the object's own path. Absent (or null) members
// leave *out untouched; a member of the wrong type is an error naming "<path>.<key>".
class ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  [[nodiscard]] const std::string& path() const { return path_; }
  // The member, or nullptr when absent or null.
  [[nodiscard]] const Json* Member(std::string_view key) const;
  [[nodiscard]] std::string PathOf(std::string_view key) const { return ChildPath(path_, key); }

  [[nodiscard]] Status String(std::string_view key, std::string* out) const;
  [[nodiscard]] Status Bool(std::string_view key, bool* out) const;
  [[nodiscard]] Status Int64(std::string_view key, int64_t* out) const;
  [[nodiscard]] Status Uint64(std::string_view key, uint64_t* out) const;
  [[nodiscard]] Status Int(std::string_view key, int* out) const;
  [[nodiscard]] Status Uint32(std::string_view key, uint32_t* out) const;
  [[nodiscard]] Status StringArray(std::string_view key, std::vector<std::string>* out) const;
  [[nodiscard]] Status Uint32Array(std::string_view key, std::vector<uint32_t>* out) const;
  [[nodiscard]] Status StringMap(std::string_view key,
                                 std::map<std::string, std::string>* out) const;
  // An array member's elements must be objects; *out gets pointers into the tree (empty when
  // the member is absent).
  [[nodiscard]] Status ObjectArray(std::string_view key, std::vector<const Json*>* out) const;
  // An object member; nullptr when absent.
  [[nodiscard]] Result<const Json*> Object(std::string_view key) const;

 private:
  // The number as an integer within [min, max], or an error naming `path`.
  static Result<int64_t> IntegerIn(const Json& value, const std::string& path, int64_t min,
                                   int64_t max);
  const Json& object_;
  std::string path_;
};

}  // namespace comet::pod::internal

#endif  // COMET_POD_JSON_FIELDS_H_
