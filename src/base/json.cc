// Typed JSON reads with path-named errors; see json.h.
#include "base/json.h"

#include <cmath>
#include <exception>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::json {
namespace {

Error NotInteger(const Json& value, std::string_view path, std::string_view min,
                 std::string_view max, Wording wording) {
  // config.json is often written by hand: 1e+300 for a limit gets "out of range", not a type
  // error.
  if (wording == Wording::kTerse && value.is_number_float()) {
    double d = value.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d) {
      return PathError(path, fmt::format("{} out of range [{}, {}]", d, min, max));
    }
  }
  return TypeError(path, "integer", value, wording);
}

}  // namespace

std::string Printable(std::string_view text) {
  return comet::Printable(text, kMaxShown);
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

Error TypeError(std::string_view path, std::string_view want, const Json& got, Wording wording) {
  if (wording == Wording::kTerse) {
    return PathError(path, fmt::format("expected {}", want));
  }
  return PathError(path, fmt::format("expected {}, got {}", want, got.type_name()));
}

Error RangeError(std::string_view path, std::string_view number, int64_t min, uint64_t max,
                 Wording wording) {
  if (wording == Wording::kTerse) {
    return PathError(path, fmt::format("{} out of range [{}, {}]", number, min, max));
  }
  return PathError(path, fmt::format("{} is out of range", number));
}

std::string Dump(const OrderedJson& value, int indent) {
  return value.dump(indent, ' ', false, OrderedJson::error_handler_t::replace);
}

std::optional<size_t> TooDeepAt(std::string_view text, int max_depth) {
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
      if (++depth > max_depth) {
        return i;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::nullopt;
}

tl::expected<Json, ParseFailure> Parse(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    ParseFailure failure;
    failure.byte = e.byte;
    std::string_view what(e.what());
    size_t at = what.find("parse error");
    if (at != std::string_view::npos) {
      what.remove_prefix(at + std::string_view("parse error").size());
      size_t colon = what.find(": ");
      if (colon != std::string_view::npos) {
        std::string_view position = what.substr(0, colon);
        if (position.starts_with(" at ")) {
          failure.position = Printable(position.substr(4));
        }
        what.remove_prefix(colon + 2);
      }
    }
    failure.reason = Printable(what);
    return tl::unexpected(std::move(failure));
  } catch (const std::exception& e) {
    ParseFailure failure;
    failure.reason = Printable(e.what());
    return tl::unexpected(std::move(failure));
  }
}

const Json* Member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Status ExpectObject(const Json& value, std::string_view path, Wording wording) {
  if (!value.is_object()) {
    return Err(TypeError(path, "object", value, wording));
  }
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
    return Err(TypeError(path, "array", *value, wording_));
  }
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    RETURN_IF_ERROR(ExpectObject(item, IndexPath(path, i), wording_));
    out->push_back(&item);
  }
  return Ok();
}

Result<const Json*> ObjectReader::Object(std::string_view key) const {
  const Json* value = Member(key);
  if (value != nullptr) {
    RETURN_IF_ERROR(ExpectObject(*value, PathOf(key), wording_));
  }
  return value;
}

namespace detail {

Result<int64_t> SignedIn(const Json& value, std::string_view path, int64_t min, int64_t max,
                         Wording wording) {
  if (!value.is_number_integer()) {
    return Err(NotInteger(value, path, std::to_string(min), std::to_string(max), wording));
  }
  if (value.is_number_unsigned()) {
    auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      return Err(RangeError(path, std::to_string(u), min, static_cast<uint64_t>(max), wording));
    }
    return static_cast<int64_t>(u);
  }
  auto i = value.get<int64_t>();
  if (i < min || i > max) {
    return Err(RangeError(path, std::to_string(i), min, static_cast<uint64_t>(max), wording));
  }
  return i;
}

Result<uint64_t> UnsignedIn(const Json& value, std::string_view path, uint64_t max,
                            Wording wording) {
  if (!value.is_number_integer()) {
    return Err(NotInteger(value, path, "0", std::to_string(max), wording));
  }
  if (!value.is_number_unsigned()) {
    auto i = value.get<int64_t>();
    if (i < 0 && wording == Wording::kNamesType) {
      return Err(PathError(path, "must not be negative"));
    }
    if (i < 0) {
      return Err(RangeError(path, std::to_string(i), 0, max, wording));
    }
  }
  auto u = value.get<uint64_t>();
  if (u > max) {
    return Err(RangeError(path, std::to_string(u), 0, max, wording));
  }
  return u;
}

}  // namespace detail
}  // namespace comet::json
