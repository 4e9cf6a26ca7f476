// Kubernetes name rules; see validation.h.
#include "kube/validation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::kube::validation {
namespace {

constexpr size_t kMaxShown = 80;

std::string Quote(std::string_view value) {
  return fmt::format("\"{}\"", Printable(value, kMaxShown));
}

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

bool IsLabel(std::string_view value) {
  if (value.empty() || value.size() > 63 || !IsLowerAlnum(value.front()) ||
      !IsLowerAlnum(value.back())) {
    return false;
  }
  return std::ranges::all_of(value, [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool IsSubdomain(std::string_view value) {
  if (value.empty() || value.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t dot = value.find('.', start);
    if (!IsLabel(value.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63.
bool IsQualifiedNamePart(std::string_view value) {
  if (value.empty() || value.size() > 63 || !IsAlnum(value.front()) || !IsAlnum(value.back())) {
    return false;
  }
  return std::ranges::all_of(value,
                             [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

}  // namespace

std::optional<std::string> Dns1123Label(std::string_view value) {
  if (IsLabel(value)) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', starting and "
      "ending with a letter or digit)",
      Quote(value));
}

std::optional<std::string> Dns1123Subdomain(std::string_view value) {
  if (IsSubdomain(value)) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be a DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' and '.', "
      "starting and ending with a letter or digit)",
      Quote(value));
}

std::optional<std::string> QualifiedName(std::string_view value) {
  std::string_view name = value;
  size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (!IsSubdomain(value.substr(0, slash))) {
      return fmt::format("{}: the prefix before '/' must be a DNS-1123 subdomain", Quote(value));
    }
    name = value.substr(slash + 1);
  }
  if (IsQualifiedNamePart(name)) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be a qualified name (at most 63 letters, digits, '-', '_' and '.', starting and "
      "ending with a letter or digit, with an optional DNS subdomain prefix and '/')",
      Quote(value));
}

std::optional<std::string> LabelValue(std::string_view value) {
  if (value.empty() || IsQualifiedNamePart(value)) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be a label value (empty, or at most 63 letters, digits, '-', '_' and '.', "
      "starting and ending with a letter or digit)",
      Quote(value));
}

std::optional<std::string> PortName(std::string_view value) {
  bool letter = false;
  bool valid = !value.empty() && value.size() <= 15 && value.front() != '-' &&
               value.back() != '-' && value.find("--") == std::string_view::npos;
  for (char c : value) {
    letter = letter || (c >= 'a' && c <= 'z');
    valid = valid && (IsLowerAlnum(c) || c == '-');
  }
  if (valid && letter) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be an IANA service name (at most 15 lowercase letters, digits and '-', with a "
      "letter, no \"--\", not starting or ending with '-')",
      Quote(value));
}

std::optional<std::string> ConfigMapKey(std::string_view value) {
  bool valid = !value.empty() && value.size() <= 253 && value != "." && value != ".." &&
               !value.starts_with("..");
  for (char c : value) {
    valid = valid && (IsAlnum(c) || c == '-' || c == '_' || c == '.');
  }
  if (valid) {
    return std::nullopt;
  }
  return fmt::format(
      "{}: must be a valid key (at most 253 letters, digits, '-', '_' and '.', not \".\", "
      "\"..\" or starting with \"..\")",
      Quote(value));
}

std::optional<std::string> EnvVarName(std::string_view value) {
  if (value.empty()) {
    return "required";
  }
  for (char c : value) {
    if (c < 0x20 || c > 0x7E || c == '=') {
      return fmt::format("{}: must be printable ASCII without '='", Quote(value));
    }
  }
  return std::nullopt;
}

std::optional<std::string> RelativePath(std::string_view value) {
  if (value.starts_with('/')) {
    return fmt::format("{}: must be a relative path", Quote(value));
  }
  for (std::string_view part : Split(value, '/')) {
    if (part == "..") {
      return fmt::format("{}: must not contain \"..\"", Quote(value));
    }
  }
  return std::nullopt;
}

bool IsIpAddress(std::string_view value) {
  std::string text(value);
  in6_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

}  // namespace comet::kube::validation
