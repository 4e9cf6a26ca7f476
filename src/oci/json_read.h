// Typed, path-tracking reads from a parsed nlohmann::json tree, used by the oci parsers. Every
// mismatch becomes an Error naming the JSON path ("linux.namespaces[2].type: expected string");
// nothing here throws. JSON null counts as absent, as Go's encoding/json treats it. Thread-safe.
#ifndef COMET_OCI_JSON_READ_H_
#define COMET_OCI_JSON_READ_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/result.h"

namespace comet::oci::internal {

using Json = nlohmann::json;

// "a.b" / "a[3]" path building; the root path is empty.
std::string ChildPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);

// An Error whose message starts with the path ("<path>: <what>").
Error PathError(std::string_view path, std::string_view what);

// Parses text into a tree. Rejects invalid JSON ("invalid JSON at byte N: ..."), nesting deeper
// than kMaxDepth (the parsers never need more) and a top level that is not an object.
inline constexpr int kMaxDepth = 64;
[[nodiscard]] Result<Json> ParseObjectText(std::string_view text);

// The member `key` of object `obj`, or nullptr when absent or null.
const Json* Member(const Json& obj, std::string_view key);

// Checks that `value` is an object (a JSON type error otherwise).
[[nodiscard]] Status ExpectObject(const Json& value, std::string_view path);

// Converts a JSON number to the integer type T, rejecting fractions and out-of-range values.
template <class T>
[[nodiscard]] Result<T> AsInt(const Json& value, std::string_view path) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  auto range_error = [&](const std::string& shown) {
    return PathError(path,
                     fmt::format("{} out of range [{}, {}]", shown, std::numeric_limits<T>::min(),
                                 std::numeric_limits<T>::max()));
  };
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return Err(range_error(std::to_string(u)));
    }
    return static_cast<T>(u);
  }
  if (value.is_number_integer()) {
    auto i = value.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0) {
        return Err(range_error(std::to_string(i)));
      }
      if (static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return Err(range_error(std::to_string(i)));
      }
    } else {
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          i > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return Err(range_error(std::to_string(i)));
      }
    }
    return static_cast<T>(i);
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d) {
      return Err(range_error(fmt::format("{}", d)));
    }
    return Err(PathError(path, "expected integer"));
  }
  return Err(PathError(path, "expected integer"));
}

// Member readers: an absent or null member leaves *out untouched and succeeds.
[[nodiscard]] Status ReadString(const Json& obj, std::string_view key, std::string_view path,
                                std::string* out);
[[nodiscard]] Status ReadBool(const Json& obj, std::string_view key, std::string_view path,
                              bool* out);
[[nodiscard]] Status ReadOptBool(const Json& obj, std::string_view key, std::string_view path,
                                 std::optional<bool>* out);
[[nodiscard]] Status ReadStringArray(const Json& obj, std::string_view key, std::string_view path,
                                     std::vector<std::string>* out);
[[nodiscard]] Status ReadStringMap(const Json& obj, std::string_view key, std::string_view path,
                                   std::map<std::string, std::string>* out);

template <class T>
[[nodiscard]] Status ReadInt(const Json& obj, std::string_view key, std::string_view path, T* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  ASSIGN_OR_RETURN(*out, AsInt<T>(*v, ChildPath(path, key)));
  return Ok();
}

template <class T>
[[nodiscard]] Status ReadOptInt(const Json& obj, std::string_view key, std::string_view path,
                                std::optional<T>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  ASSIGN_OR_RETURN(*out, AsInt<T>(*v, ChildPath(path, key)));
  return Ok();
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
