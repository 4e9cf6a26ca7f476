// CDI name checks; see names.h.
#include "cdi/names.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::cdi {
namespace {

constexpr size_t kMaxVendorLength = 253;  // a DNS subdomain
constexpr size_t kMaxClassLength = 63;    // a DNS label
constexpr size_t kMaxDeviceNameLength = 255;

bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsAlnum(char c) {
  return IsLetter(c) || (c >= '0' && c <= '9');
}

// The shared rule of the vendor and class words; `what` names the word in errors.
Status ValidateWord(std::string_view word, size_t max_length, std::string_view what) {
  if (word.empty()) {
    return Err(Error::Invalid(fmt::format("empty {}", what)));
  }
  if (word.size() > max_length) {
    return Err(Error::Invalid(fmt::format("{} longer than {} characters", what, max_length)));
  }
  if (!IsLetter(word.front())) {
    return Err(Error::Invalid(
        fmt::format("{} \"{}\" must start with a letter", what, Printable(word, 64))));
  }
  if (!IsAlnum(word.back())) {
    return Err(Error::Invalid(
        fmt::format("{} \"{}\" must end with a letter or digit", what, Printable(word, 64))));
  }
  const auto* bad = std::find_if_not(word.begin(), word.end(), [](char c) {
    return IsAlnum(c) || c == '_' || c == '-' || c == '.';
  });
  if (bad != word.end()) {
    return Err(Error::Invalid(fmt::format("{} \"{}\": character '{}' not allowed", what,
                                          Printable(word, 64), Printable({&*bad, 1}, 4))));
  }
  return Ok();
}

}  // namespace

Status ValidateKind(std::string_view kind) {
  const size_t slash = kind.find('/');
  if (slash == std::string_view::npos) {
    return Err(
        Error::Invalid(fmt::format("kind \"{}\": expected vendor.com/class", Printable(kind, 64))));
  }
  RETURN_IF_ERROR(ValidateWord(kind.substr(0, slash), kMaxVendorLength, "vendor"));
  return ValidateWord(kind.substr(slash + 1), kMaxClassLength, "class");
}

Status ValidateDeviceName(std::string_view name) {
  if (name.empty()) {
    return Err(Error::Invalid("empty device name"));
  }
  if (name.size() > kMaxDeviceNameLength) {
    return Err(
        Error::Invalid(fmt::format("device name longer than {} characters", kMaxDeviceNameLength)));
  }
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) {
    return Err(Error::Invalid(fmt::format(
        "device name \"{}\" must start and end with a letter or digit", Printable(name, 64))));
  }
  const auto* bad = std::find_if_not(name.begin(), name.end(), [](char c) {
    return IsAlnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
  });
  if (bad != name.end()) {
    return Err(Error::Invalid(fmt::format("device name \"{}\": character '{}' not allowed",
                                          Printable(name, 64), Printable({&*bad, 1}, 4))));
  }
  return Ok();
}

bool LooksQualified(std::string_view text) {
  const size_t slash = text.find('/');
  const size_t eq = text.find('=');
  return !text.empty() && text.front() != '/' && slash != std::string_view::npos &&
         eq != std::string_view::npos && slash < eq;
}

Result<QualifiedName> ParseQualifiedName(std::string_view text) {
  const size_t eq = text.find('=');
  if (!LooksQualified(text) || eq + 1 == text.size()) {
    return Err(Error::Invalid(fmt::format(
        "\"{}\": not a CDI device name (expected vendor.com/class=name)", Printable(text, 128))));
  }
  const std::string_view kind = text.substr(0, eq);
  const std::string_view name = text.substr(eq + 1);
  Status valid = ValidateKind(kind);
  if (valid) {
    valid = ValidateDeviceName(name);
  }
  if (!valid) {
    return Err(std::move(valid).error().AddContext(
        fmt::format("CDI device \"{}\"", Printable(text, 128))));
  }
  const size_t slash = kind.find('/');
  return QualifiedName{std::string(kind.substr(0, slash)), std::string(kind.substr(slash + 1)),
                       std::string(name)};
}

}  // namespace comet::cdi
