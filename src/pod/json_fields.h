// The pod files' (manifest, status files) view of base/json.h: typed, path-tracking reads worded
// with the type found ("apps[1].name: expected string, got number"); nothing here throws. JSON
// null counts as absent. Internal to the pod layer; thread-safe.
#ifndef COMET_POD_JSON_FIELDS_H_
#define COMET_POD_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace comet::pod::internal {

using json::ChildPath;
using json::IndexPath;
using json::Json;
using json::OrderedJson;
using json::PathError;
using json::Printable;

// No pod file nests deeper than this; deeper input is rejected before it is parsed.
inline constexpr int kMaxJsonDepth = 16;

// Parses `text` (at most `max_bytes`) into a tree whose top level is an object. `what` names the
// document in errors ("pod manifest").
[[nodiscard]] Result<Json> ParseObject(std::string_view text, size_t max_bytes,
                                       std::string_view what);
// JSON text, compact or indented by 2; never throws (invalid UTF-8 becomes U+FFFD).
inline std::string Dump(const OrderedJson& value, bool pretty) {
  return json::Dump(value, pretty ? 2 : -1);
}

// Reads members of one JSON object (json::ObjectReader::Read), with names that say the type at
// the call site. Absent (or null) members leave *out untouched; a member of the wrong type is an
// error naming "<path>.<key>".
class ObjectReader : public json::ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path)
      : json::ObjectReader(object, std::move(path), json::Wording::kNamesType) {}

  [[nodiscard]] Status String(std::string_view key, std::string* out) const {
    return Read(key, out);
  }
  [[nodiscard]] Status Bool(std::string_view key, bool* out) const { return Read(key, out); }
  [[nodiscard]] Status Int64(std::string_view key, int64_t* out) const { return Read(key, out); }
  [[nodiscard]] Status Uint64(std::string_view key, uint64_t* out) const { return Read(key, out); }
  [[nodiscard]] Status Int(std::string_view key, int* out) const { return Read(key, out); }
  [[nodiscard]] Status Uint32(std::string_view key, uint32_t* out) const { return Read(key, out); }
  [[nodiscard]] Status StringArray(std::string_view key, std::vector<std::string>* out) const {
    return Read(key, out);
  }
  [[nodiscard]] Status Uint32Array(std::string_view key, std::vector<uint32_t>* out) const {
    return Read(key, out);
  }
  [[nodiscard]] Status StringMap(std::string_view key,
                                 std::map<std::string, std::string>* out) const {
    return Read(key, out);
  }
};

}  // namespace comet::pod::internal

#endif  // COMET_POD_JSON_FIELDS_H_
