// ParseStream's front (size, encoding, JSON or YAML) and scalar resolution; see yaml_tree.h.
#include "kube/yaml_tree.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace comet::kube::yaml {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlongs, surrogates
// or code points past U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min_second = lead == 0xE0 ? 0xA0 : 0x80;  // overlong
    max_second = lead == 0xED ? 0x9F : 0xBF;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min_second = lead == 0xF0 ? 0x90 : 0x80;  // overlong
    max_second = lead == 0xF4 ? 0x8F : 0xBF;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < min_second || byte(i + 1) > max_second) {
    return 0;
  }
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// YAML streams are Unicode text of printable characters (YAML 1.2 §5.1); Kubernetes rejects
// anything else too. Binary garbage stops here, with its position.
Status CheckText(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        return Err(Error::Invalid(fmt::format("{}: control character 0x{:02x} (not YAML text)",
                                              internal::PositionOf(text, i), c)));
      }
      ++i;
      continue;
    }
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return Err(Error::Invalid(
          fmt::format("{}: invalid UTF-8 (byte 0x{:02x})", internal::PositionOf(text, i), c)));
    }
    i += length;
  }
  return Ok();
}

bool IsNullText(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::optional<bool> BoolText(std::string_view text) {
  if (text.size() > 5 || std::string_view("yYnNtTfFoO").find(text[0]) == std::string_view::npos) {
    return std::nullopt;
  }
  for (std::string_view yes :
       {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    if (text == yes) {
      return true;
    }
  }
  for (std::string_view no :
       {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    if (text == no) {
      return false;
    }
  }
  return std::nullopt;
}

// Go's strconv.ParseInt(text, 0, 64): a sign, then 0x/0o/0b or a leading 0 (octal) or decimal.
std::optional<int64_t> IntText(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'o' || text[1] == 'O')) {
    base = 8;
    text.remove_prefix(2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
    base = 2;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  if (text.empty() || text[0] == '+' || text[0] == '-') {
    return std::nullopt;
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  const auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > max + (negative ? 1 : 0)) {
    return std::nullopt;
  }
  if (negative) {
    return magnitude == max + 1 ? std::numeric_limits<int64_t>::min()
                                : -static_cast<int64_t>(magnitude);
  }
  return static_cast<int64_t>(magnitude);
}

std::optional<double> FloatText(std::string_view text) {
  bool negative = false;
  std::string_view body = text;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") {
    return std::nan("");
  }
  if (body.empty() || !(body[0] == '.' || (body[0] >= '0' && body[0] <= '9'))) {
    return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return std::nullopt;
  }
  if (ec != std::errc() || end != body.data() + body.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

Scalar ResolvePlain(std::string_view text) {
  Scalar out;
  if (IsNullText(text)) {
    out.type = ScalarType::kNull;
    return out;
  }
  if (auto boolean = BoolText(text)) {
    out.type = ScalarType::kBool;
    out.boolean = *boolean;
    return out;
  }
  const char first = text[0];
  if (first != '-' && first != '+' && first != '.' && !(first >= '0' && first <= '9')) {
    return out;
  }
  std::string digits(text);
  std::erase(digits, '_');
  if (auto integer = IntText(digits)) {
    out.type = ScalarType::kInt;
    out.integer = *integer;
    out.number = static_cast<double>(*integer);
    return out;
  }
  if (auto number = FloatText(digits)) {
    out.type = ScalarType::kFloat;
    out.number = *number;
  }
  return out;
}

}  // namespace

Scalar Resolve(const Node& node) {
  Scalar out;
  if (node.kind == NodeKind::kNull) {
    out.type = ScalarType::kNull;
    return out;
  }
  if (node.kind != NodeKind::kScalar) {
    return out;
  }
  switch (node.tag) {
    case Tag::kNone:
      return node.plain ? ResolvePlain(node.text) : out;
    case Tag::kNull:
      out.type = ScalarType::kNull;
      return out;
    case Tag::kBool:
    case Tag::kInt:
    case Tag::kFloat: {
      Scalar resolved = ResolvePlain(node.text);
      if (resolved.type == ScalarType::kBool || resolved.type == ScalarType::kInt ||
          resolved.type == ScalarType::kFloat) {
        return resolved;
      }
      return out;
    }
    case Tag::kStr:
    case Tag::kOther:
      return out;
  }
  return out;
}

std::string Position(const Node& node) {
  if (node.line <= 0) {
    return {};
  }
  return fmt::format("line {}, column {}", node.line, node.column);
}

namespace internal {

std::string PositionOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return fmt::format("line {}, column {}", line, offset - line_start + 1);
}

}  // namespace internal

Result<Stream> ParseStream(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return Err(Error::Invalid(
        fmt::format("{} bytes, more than the limit of {} bytes", text.size(), limits.max_bytes)));
  }
  if (text.starts_with(kUtf8Bom)) {
    text.remove_prefix(kUtf8Bom.size());
  }
  RETURN_IF_ERROR(CheckText(text));
  Stream stream;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    RETURN_IF_ERROR(internal::ParseJsonStream(text, limits, &stream));
  } else {
    RETURN_IF_ERROR(internal::CheckFlowStructure(text, limits));
    RETURN_IF_ERROR(internal::ParseYamlStream(text, limits, &stream));
  }
  return stream;
}

}  // namespace comet::kube::yaml
