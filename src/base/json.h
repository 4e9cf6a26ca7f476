// Typed, path-tracking, non-throwing reads of a parsed nlohmann::json tree, shared by every parser
// of untrusted JSON (oci config.json, image manifests and configs, pod files, control requests).
// A mismatch is an EINVAL Error naming the JSON path ("apps[1].name: expected string"); JSON null
// counts as absent, as Go's encoding/json treats it. Thread-safe (pure functions).
#ifndef COMET_BASE_JSON_H_
#define COMET_BASE_JSON_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace comet::json {

using Json = nlohmann::json;
// Output in insertion order, so that written files keep their structs' (or spec's) field order.
using OrderedJson = nlohmann::ordered_json;

// Paths and strings quoted in errors are cut here: a hostile document may have megabyte keys.
inline constexpr size_t kMaxShown = 200;

// How type and range errors are worded; each layer keeps the words its users already see.
enum class Wording {
  // "expected string"; "-1 out of range [0, 4294967295]" (an integral float is out of range too).
  kTerse,
  // "expected string, got number"; "70000 is out of range"; "must not be negative".
  kNamesType,
};

// `text` with bytes that are not printable ASCII escaped, cut at kMaxShown characters.
std::string Printable(std::string_view text);
// "a.b" / "a[3]"; the root path is empty.
std::string ChildPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);
// An EINVAL Error "<path>: <what>" (just <what> for the root), the path escaped and cut short.
Error PathError(std::string_view path, std::string_view what);
// "<path>: expected <want>", with ", got <type of got>" in Wording::kNamesType.
Error TypeError(std::string_view path, std::string_view want, const Json& got, Wording wording);
// "<path>: <number> out of range [<min>, <max>]" or "<path>: <number> is out of range".
Error RangeError(std::string_view path, std::string_view number, int64_t min, uint64_t max,
                 Wording wording);

// Compact (indent < 0) or indented JSON text; never throws (invalid UTF-8 becomes U+FFFD).
std::string Dump(const OrderedJson& value, int indent);

// The byte offset of the first '[' or '{' nested deeper than max_depth (strings skipped), so that
// callers reject such text before nlohmann's recursive parser or any later walk sees it.
std::optional<size_t> TooDeepAt(std::string_view text, int max_depth);
// Why nlohmann rejected some text, for the caller to word: "[json.exception.parse_error.101]
// parse error at line 1, column 2: <why>" becomes {byte, "line 1, column 2", "<why>"}.
struct ParseFailure {
  std::optional<size_t> byte;  // where the parser stopped, when known
  std::string position;        // "line 1, column 2", or empty
  std::string reason;          // escaped and cut short
};
// Parses `text` without throwing (callers check TooDeepAt first).
[[nodiscard]] tl::expected<Json, ParseFailure> Parse(std::string_view text);

// The member `key` of object `obj`, or nullptr when absent or null.
const Json* Member(const Json& obj, std::string_view key);
// Checks that `value` is an object.
[[nodiscard]] Status ExpectObject(const Json& value, std::string_view path, Wording wording);

// A JSON number as the integer type T, rejecting fractions and out-of-range values.
template <class T>
[[nodiscard]] Result<T> AsInt(const Json& value, std::string_view path, Wording wording);

// Reads member `key` of `obj` (whose own path is `path`) into *out, leaving *out untouched when
// the member is absent. T is std::string, bool, an integer type, std::optional of one of those,
// or std::vector / std::map<std::string, ...> of strings or integers.
template <class T>
[[nodiscard]] Status Read(const Json& obj, std::string_view key, std::string_view path, T* out,
                          Wording wording);
// As Read, but an absent member is the error "<path>.<key>: missing".
template <class T>
[[nodiscard]] Status ReadRequired(const Json& obj, std::string_view key, std::string_view path,
                                  T* out, Wording wording) {
  if (Member(obj, key) == nullptr) {
    return Err(PathError(ChildPath(path, key), "missing"));
  }
  return Read(obj, key, path, out, wording);
}

// Reads the members of one object with one wording; `path` is the object's own path.
class ObjectReader {
 public:
  ObjectReader(const Json& object, std::string path, Wording wording = Wording::kNamesType)
      : object_(object), path_(std::move(path)), wording_(wording) {}

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const Json* Member(std::string_view key) const {
    return json::Member(object_, key);
  }
  [[nodiscard]] std::string PathOf(std::string_view key) const { return ChildPath(path_, key); }

  template <class T>
  [[nodiscard]] Status Read(std::string_view key, T* out) const {
    return json::Read(object_, key, path_, out, wording_);
  }
  // An array member's elements must be objects; *out gets pointers into the tree (empty when
  // the member is absent).
  [[nodiscard]] Status ObjectArray(std::string_view key, std::vector<const Json*>* out) const;
  // An object member; nullptr when absent.
  [[nodiscard]] Result<const Json*> Object(std::string_view key) const;

 private:
  const Json& object_;
  std::string path_;
  Wording wording_;
};

namespace detail {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

template <class T>
constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The integer `value` within [min, max] (min <= 0 <= max), or an error naming `path`.
[[nodiscard]] Result<int64_t> SignedIn(const Json& value, std::string_view path, int64_t min,
                                       int64_t max, Wording wording);
[[nodiscard]] Result<uint64_t> UnsignedIn(const Json& value, std::string_view path, uint64_t max,
                                          Wording wording);

// The name of T in "expected <name>" errors.
template <class T>
constexpr const char* WantName() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "string";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "boolean";
  } else if constexpr (kIsInt<T>) {
    return "integer";
  } else if constexpr (IsVector<T>::value) {
    return kIsInt<typename T::value_type> ? "array of integers" : "array of strings";
  } else {
    return kIsInt<typename T::mapped_type> ? "object of integers" : "object of strings";
  }
}

// Converts one JSON value to T (a scalar, vector or string map), naming `path` in errors.
template <class T>
[[nodiscard]] Status Convert(const Json& value, std::string_view path, T* out, Wording wording) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) {
      return Err(TypeError(path, WantName<T>(), value, wording));
    }
    *out = value.get_ref<const std::string&>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) {
      return Err(TypeError(path, WantName<T>(), value, wording));
    }
    *out = value.get<bool>();
  } else if constexpr (kIsInt<T>) {
    ASSIGN_OR_RETURN(*out, AsInt<T>(value, path, wording));
  } else if constexpr (IsVector<T>::value) {
    if (!value.is_array()) {
      return Err(TypeError(path, WantName<T>(), value, wording));
    }
    T items;
    items.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      typename T::value_type item{};
      RETURN_IF_ERROR(Convert(value[i], IndexPath(path, i), &item, wording));
      items.push_back(std::move(item));
    }
    *out = std::move(items);
  } else {
    static_assert(IsStringMap<T>::value, "unsupported type for json::Read");
    if (!value.is_object()) {
      return Err(TypeError(path, WantName<T>(), value, wording));
    }
    T items;
    for (const auto& [name, element] : value.items()) {
      RETURN_IF_ERROR(Convert(element, ChildPath(path, name), &items[name], wording));
    }
    *out = std::move(items);
  }
  return Ok();
}

}  // namespace detail

template <class T>
Result<T> AsInt(const Json& value, std::string_view path, Wording wording) {
  static_assert(detail::kIsInt<T>);
  using Limits = std::numeric_limits<T>;
  if constexpr (std::is_unsigned_v<T>) {
    ASSIGN_OR_RETURN(uint64_t u, detail::UnsignedIn(value, path, Limits::max(), wording));
    return static_cast<T>(u);
  } else {
    ASSIGN_OR_RETURN(int64_t i,
                     detail::SignedIn(value, path, Limits::min(), Limits::max(), wording));
    return static_cast<T>(i);
  }
}

template <class T>
Status Read(const Json& obj, std::string_view key, std::string_view path, T* out, Wording wording) {
  const Json* value = Member(obj, key);
  if (value == nullptr) {
    return Ok();
  }
  if constexpr (detail::IsOptional<T>::value) {
    typename T::value_type item{};
    RETURN_IF_ERROR(detail::Convert(*value, ChildPath(path, key), &item, wording));
    *out = std::move(item);
    return Ok();
  } else {
    return detail::Convert(*value, ChildPath(path, key), out, wording);
  }
}

}  // namespace comet::json

#endif  // COMET_BASE_JSON_H_
