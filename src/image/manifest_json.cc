// Typed JSON reads with path-named errors for the image documents; see manifest_json.h.
#include "image/manifest_json.h"

#include <exception>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace comet::image::internal {
// Paths and reasons quoted in errors are cut here: a hostile document may have 4 MiB keys.
constexpr size_t kMaxShown = 200;

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

namespace {

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <why>";
// keep only <why>, since the byte offset is reported separately.
std::string ParseErrorReason(const char* what) {
  std::string_view text(what);
  size_t at = text.find("parse error");
  if (at != std::string_view::npos) {
    size_t colon = text.find(": ", at);
    if (colon != std::string_view::npos) {
      text.remove_prefix(colon + 2);
    }
  }
  return Printable(text);
}

// The first byte at which containers nest deeper than kMaxJsonDepth (strings skipped), so that
// no later walk over the tree can be driven deep by hostile input.
std::optional<size_t> TooDeepAt(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
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
        return i;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

std::string TypeError(std::string_view want, const Json& got) {
  return fmt::format("expected {}, got {}", want, got.type_name());
}

}  // namespace

Result<Json> ParseObject(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{} is {} bytes, more than the limit of {}", what, text.size(), max_bytes)));
  }
  if (auto at = TooDeepAt(text)) {
    return Err(Error::Invalid(fmt::format("invalid {} JSON at byte {}: nesting deeper than {}",
                                          what, *at, kMaxJsonDepth)));
  }
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return Err(Error::Invalid(
        fmt::format("invalid {} JSON at byte {}: {}", what, e.byte, ParseErrorReason(e.what()))));
  } catch (const std::exception& e) {
    return Err(Error::Invalid(fmt::format("invalid {} JSON: {}", what, Printable(e.what()))));
  }
  if (!root.is_object()) {
    return Err(Error::Invalid(
        fmt::format("invalid {}: expected a JSON object, got {}", what, root.type_name())));
  }
  return root;
}

std::string Dump(const OrderedJson& value) {
  return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
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
  if (path.empty()) {
    return Error::Invalid(std::string(what));
  }
  return Error::Invalid(fmt::format("{}: {}", Printable(path), what));
}

const Json* Member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Status ReadString(const Json& obj, std::string_view key, std::string_view path, std::string* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  if (!v->is_string()) {
    return Err(PathError(ChildPath(path, key), TypeError("string", *v)));
  }
  *out = v->get_ref<const std::string&>();
  return Ok();
}

Status ReadRequiredString(const Json& obj, std::string_view key, std::string_view path,
                          std::string* out) {
  if (Member(obj, key) == nullptr) {
    return Err(PathError(ChildPath(path, key), "missing"));
  }
  return ReadString(obj, key, path, out);
}

Status ReadStringArray(const Json& obj, std::string_view key, std::string_view path,
                       std::vector<std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string array_path = ChildPath(path, key);
  if (!v->is_array()) {
    return Err(PathError(array_path, TypeError("array of strings", *v)));
  }
  out->clear();
  out->reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& element = (*v)[i];
    if (!element.is_string()) {
      return Err(PathError(IndexPath(array_path, i), TypeError("string", element)));
    }
    out->push_back(element.get<std::string>());
  }
  return Ok();
}

Status ReadStringMap(const Json& obj, std::string_view key, std::string_view path,
                     std::map<std::string, std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string map_path = ChildPath(path, key);
  if (!v->is_object()) {
    return Err(PathError(map_path, TypeError("object of strings", *v)));
  }
  out->clear();
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string()) {
      return Err(PathError(ChildPath(map_path, name), TypeError("string", value)));
    }
    (*out)[name] = value.get<std::string>();
  }
  return Ok();
}

Status ReadKeySet(const Json& obj, std::string_view key, std::string_view path,
                  std::vector<std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string set_path = ChildPath(path, key);
  if (!v->is_object()) {
    return Err(PathError(set_path, TypeError("object", *v)));
  }
  out->clear();
  for (const auto& [name, value] : v->items()) {
    if (!value.is_object() && !value.is_null()) {
      return Err(PathError(ChildPath(set_path, name), TypeError("object", value)));
    }
    out->push_back(name);
  }
  return Ok();
}

Result<int64_t> ReadRequiredInt(const Json& obj, std::string_view key, std::string_view path) {
  const Json* v = Member(obj, key);
  std::string value_path = ChildPath(path, key);
  if (v == nullptr) {
    return Err(PathError(value_path, "missing"));
  }
  if (v->is_number_integer() && !v->is_number_unsigned()) {
    return v->get<int64_t>();
  }
  if (v->is_number_unsigned()) {
    auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      return Err(PathError(value_path, fmt::format("{} is out of range", u)));
    }
    return static_cast<int64_t>(u);
  }
  return Err(PathError(value_path, TypeError("integer", *v)));
}

Result<Digest> ReadRequiredDigest(const Json& obj, std::string_view key, std::string_view path) {
  std::string text;
  RETURN_IF_ERROR(ReadRequiredString(obj, key, path, &text));
  auto digest = Digest::Parse(text);
  if (!digest) {
    return Err(PathError(ChildPath(path, key), digest.error().message()));
  }
  return *std::move(digest);
}

}  // namespace comet::image::internal
