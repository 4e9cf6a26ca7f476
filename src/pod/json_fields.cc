// Typed JSON reads with path-named errors for the pod files; see json_fields.h.
#include "pod/json_fields.h"

#include <exception>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace comet::pod::internal {
namespace {

// Paths and strings quoted in errors are cut here: a hostile file may have megabyte keys.
constexpr size_t kMaxShown = 200;

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <why>";
// keep "line 1, column 2: <why>".
std::string ParseErrorReason(const char* what) {
  std::string_view text(what);
  size_t at = text.find("parse error at ");
  if (at != std::string_view::npos) {
    text.remove_prefix(at + std::string_view("parse error at ").size());
  }
  return Printable(text);
}

// True when containers nest deeper than kMaxJsonDepth (strings skipped), so that the recursive
// parser and later walks are never driven deep by hostile input.
bool TooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return true;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

Error TypeError(const std::string& path, std::string_view want, const Json& got) {
  return PathError(path, fmt::format("expected {}, got {}", want, got.type_name()));
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxShown)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (text.size() > kMaxShown) {
    out += "...";
  }
  return out;
}

Result<Json> ParseObject(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{}: {} bytes is more than the limit of {}", what, text.size(), max_bytes)));
  }
  if (TooDeep(text)) {
    return Err(
        Error::Invalid(fmt::format("{}: nested deeper than {} levels", what, kMaxJsonDepth)));
  }
  Json tree;
  try {
    tree = Json::parse(text);
  } catch (const std::exception& e) {
    return Err(
        Error::Invalid(fmt::format("{}: invalid JSON: {}", what, ParseErrorReason(e.what()))));
  }
  if (!tree.is_object()) {
    return Err(
        Error::Invalid(fmt::format("{}: expected a JSON object, got {}", what, tree.type_name())));
  }
  return tree;
}

std::string Dump(const OrderedJson& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ChildPath(std::string_view path, std::string_view key) {
  if (path.empty()) {
    return std::string(key);
  }
  return fmt::format("{}.{}", path, key);
}

std::string IndexPath(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

Error PathError(std::string_view path, std::string_view what) {
  return Error::Invalid(fmt::format("{}: {}", Printable(path), what));
}

const Json* ObjectReader::Member(std::string_view key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Status ObjectReader::String(std::string_view key, std::string* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  if (!value->is_string()) {
    return Err(TypeError(PathOf(key), "string", *value));
  }
  *out = value->get_ref<const std::string&>();
  return Ok();
}

Status ObjectReader::Bool(std::string_view key, bool* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  if (!value->is_boolean()) {
    return Err(TypeError(PathOf(key), "boolean", *value));
  }
  *out = value->get<bool>();
  return Ok();
}

Result<int64_t> ObjectReader::IntegerIn(const Json& value, const std::string& path, int64_t min,
                                        int64_t max) {
  if (!value.is_number_integer()) {
    return Err(TypeError(path, "integer", value));
  }
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      return Err(PathError(path, fmt::format("{} is out of range", u)));
    }
    return static_cast<int64_t>(u);
  }
  auto i = value.get<int64_t>();
  if (i < min || i > max) {
    return Err(PathError(path, fmt::format("{} is out of range", i)));
  }
  return i;
}

Status ObjectReader::Int64(std::string_view key, int64_t* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  ASSIGN_OR_RETURN(*out, IntegerIn(*value, PathOf(key), std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max()));
  return Ok();
}

Status ObjectReader::Uint64(std::string_view key, uint64_t* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  if (!value->is_number_integer()) {
    return Err(TypeError(PathOf(key), "integer", *value));
  }
  if (!value->is_number_unsigned()) {
    return Err(PathError(PathOf(key), "must not be negative"));
  }
  *out = value->get<uint64_t>();
  return Ok();
}

Status ObjectReader::Int(std::string_view key, int* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  ASSIGN_OR_RETURN(int64_t v, IntegerIn(*value, PathOf(key), std::numeric_limits<int>::min(),
                                        std::numeric_limits<int>::max()));
  *out = static_cast<int>(v);
  return Ok();
}

Status ObjectReader::Uint32(std::string_view key, uint32_t* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  ASSIGN_OR_RETURN(int64_t v,
                   IntegerIn(*value, PathOf(key), 0, std::numeric_limits<uint32_t>::max()));
  *out = static_cast<uint32_t>(v);
  return Ok();
}

Status ObjectReader::StringArray(std::string_view key, std::vector<std::string>* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  std::string path = PathOf(key);
  if (!value->is_array()) {
    return Err(TypeError(path, "array", *value));
  }
  std::vector<std::string> items;
  items.reserve(value->size());
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_string()) {
      return Err(TypeError(IndexPath(path, i), "string", item));
    }
    items.push_back(item.get<std::string>());
  }
  *out = std::move(items);
  return Ok();
}

Status ObjectReader::Uint32Array(std::string_view key, std::vector<uint32_t>* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  std::string path = PathOf(key);
  if (!value->is_array()) {
    return Err(TypeError(path, "array", *value));
  }
  std::vector<uint32_t> items;
  for (size_t i = 0; i < value->size(); ++i) {
    ASSIGN_OR_RETURN(int64_t v, IntegerIn((*value)[i], IndexPath(path, i), 0,
                                          std::numeric_limits<uint32_t>::max()));
    items.push_back(static_cast<uint32_t>(v));
  }
  *out = std::move(items);
  return Ok();
}

Status ObjectReader::StringMap(std::string_view key,
                               std::map<std::string, std::string>* out) const {
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  std::string path = PathOf(key);
  if (!value->is_object()) {
    return Err(TypeError(path, "object", *value));
  }
  std::map<std::string, std::string> items;
  for (const auto& [k, v] : value->items()) {
    if (!v.is_string()) {
      return Err(TypeError(ChildPath(path, k), "string", v));
    }
    items[k] = v.get<std::string>();
  }
  *out = std::move(items);
  return Ok();
}

Status ObjectReader::ObjectArray(std::string_view key, std::vector<const Json*>* out) const {
  out->clear();
  const Json* value = Member(key);
  if (value == nullptr) {
    return Ok();
  }
  std::string path = PathOf(key);
  if (!value->is_array()) {
    return Err(TypeError(path, "array", *value));
  }
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_object()) {
      return Err(TypeError(IndexPath(path, i), "object", item));
    }
    out->push_back(&item);
  }
  return Ok();
}

Result<const Json*> ObjectReader::Object(std::string_view key) const {
  const Json* value = Member(key);
  if (value != nullptr && !value->is_object()) {
    return Err(TypeError(PathOf(key), "object", *value));
  }
  return value;
}

}  // namespace comet::pod::internal
