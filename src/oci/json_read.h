// The oci parsers' view of base/json.h: typed, path-tracking reads worded as runc words them
// ("linux.namespaces[2].type: expected string", "-1 out of range [0, 4294967295]"); nothing here
// throws. JSON null counts as absent. Thread-safe.
#ifndef COMET_OCI_JSON_READ_H_
#define COMET_OCI_JSON_READ_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace comet::oci::internal {

using json::ChildPath;
using json::IndexPath;
using json::Json;
using json::Member;
using json::PathError;

inline constexpr json::Wording kWording = json::Wording::kTerse;

// Parses text into a tree. Rejects invalid JSON ("invalid JSON at byte N: ..."), nesting deeper
// than kMaxDepth (the parsers never need more) and a top level that is not an object.
inline constexpr int kMaxDepth = 64;
[[nodiscard]] Result<Json> ParseObjectText(std::string_view text);

// Checks that `value` is an object ("<path>: expected object").
[[nodiscard]] inline Status ExpectObject(const Json& value, std::string_view path) {
  return json::ExpectObject(value, path, kWording);
}

// Converts a JSON number to the integer type T, rejecting fractions and out-of-range values.
template <class T>
[[nodiscard]] Result<T> AsInt(const Json& value, std::string_view path) {
  return json::AsInt<T>(value, path, kWording);
}

// Reads member `key` into *out (see json::Read): an absent or null member leaves *out untouched.
template <class T>
[[nodiscard]] Status Read(const Json& obj, std::string_view key, std::string_view path, T* out) {
  return json::Read(obj, key, path, out, kWording);
}

// Reads member `key` as an array of objects, calling parse(element, element_path, &item) for
// each and appending the items to *out.
template <class T, class F>
[[nodiscard]] Status ReadObjectArray(const Json& obj, std::string_view key, std::string_view path,
                                     std::vector<T>* out, F parse) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string array_path = ChildPath(path, key);
  if (!v->is_array()) {
    return Err(PathError(array_path, "expected array"));
  }
  out->clear();
  out->reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    std::string element_path = IndexPath(array_path, i);
    const Json& element = (*v)[i];
    RETURN_IF_ERROR(ExpectObject(element, element_path));
    T item;
    RETURN_IF_ERROR(parse(element, element_path, &item));
    out->push_back(std::move(item));
  }
  return Ok();
}

// Reads member `key` as an optional object: absent/null leaves *out empty.
template <class T, class F>
[[nodiscard]] Status ReadOptObject(const Json& obj, std::string_view key, std::string_view path,
                                   std::optional<T>* out, F parse) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string child_path = ChildPath(path, key);
  RETURN_IF_ERROR(ExpectObject(*v, child_path));
  T item;
  RETURN_IF_ERROR(parse(*v, child_path, &item));
  *out = std::move(item);
  return Ok();
}

}  // namespace comet::oci::internal

#endif  // COMET_OCI_JSON_READ_H_
