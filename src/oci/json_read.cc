// Typed JSON reads with path-named errors; see json_read.h.
#include "oci/json_read.h"

#include <exception>
#include <utility>

namespace comet::oci::internal {
namespace {

// Escapes bytes that are not printable ASCII so that error messages stay one clean line even
// when they quote hostile input (nlohmann's "last read: '...'").
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2: <why>";
// keep only <why>, since we report the byte offset ourselves.
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

// Finds the first byte at which containers nest deeper than kMaxDepth, skipping strings. Done
// before parsing so that hostile input cannot make any later recursive walk overflow the stack.
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
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) {
        return i + 1;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ChildPath(std::string_view path, std::string_view key) {
  if (path.empty()) {
    return std::string(key);
  }
  std::string out(path);
  out += '.';
  out += key;
  return out;
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

Result<Json> ParseObjectText(std::string_view text) {
  if (auto at = TooDeepAt(text)) {
    return Err(Error::Invalid(
        fmt::format("invalid JSON at byte {}: nesting deeper than {}", *at, kMaxDepth)));
  }
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return Err(Error::Invalid(
        fmt::format("invalid JSON at byte {}: {}", e.byte, ParseErrorReason(e.what()))));
  } catch (const std::exception& e) {
    return Err(Error::Invalid(fmt::format("invalid JSON: {}", Printable(e.what()))));
  }
  if (!root.is_object()) {
    return Err(Error::Invalid(fmt::format("expected a JSON object, got {}", root.type_name())));
  }
  return root;
}

const Json* Member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Status ExpectObject(const Json& value, std::string_view path) {
  if (!value.is_object()) {
    return Err(PathError(path, "expected object"));
  }
  return Ok();
}

Status ReadString(const Json& obj, std::string_view key, std::string_view path, std::string* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  if (!v->is_string()) {
    return Err(PathError(ChildPath(path, key), "expected string"));
  }
  *out = v->get_ref<const std::string&>();
  return Ok();
}

Status ReadBool(const Json& obj, std::string_view key, std::string_view path, bool* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  if (!v->is_boolean()) {
    return Err(PathError(ChildPath(path, key), "expected boolean"));
  }
  *out = v->get<bool>();
  return Ok();
}

Status ReadOptBool(const Json& obj, std::string_view key, std::string_view path,
                   std::optional<bool>* out) {
  bool value = false;
  if (Member(obj, key) == nullptr) {
    return Ok();
  }
  RETURN_IF_ERROR(ReadBool(obj, key, path, &value));
  *out = value;
  return Ok();
}

Status ReadStringArray(const Json& obj, std::string_view key, std::string_view path,
                       std::vector<std::string>* out) {
  const Json* v = Member(obj, key);
  if (v == nullptr) {
    return Ok();
  }
  std::string array_path = ChildPath(path, key);
  if (!v->is_array()) {
    return Err(PathError(array_path, "expected array of strings"));
  }
  out->clear();
  out->reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& element = (*v)[i];
    if (!element.is_string()) {
      return Err(PathError(IndexPath(array_path, i), "expected string"));
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
    return Err(PathError(map_path, "expected object of strings"));
  }
  out->clear();
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string()) {
      return Err(PathError(ChildPath(map_path, name), "expected string"));
    }
    (*out)[name] = value.get<std::string>();
  }
  return Ok();
}

}  // namespace comet::oci::internal
