// Go-style duration parsing and formatting.
#include "base/duration.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

namespace comet {
namespace {

struct Unit {
  std::string_view name;
  double nanoseconds;
};
// Longest names first so that "ms" is not read as "m" followed by "s".
constexpr std::array<Unit, 6> kUnits = {
    {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}};

Error Invalid(std::string_view text, std::string_view why) {
  return Error::Invalid(fmt::format("invalid duration {:?}: {}", text, why));
}

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  if (text == "0") {
    return std::chrono::nanoseconds(0);
  }
  if (text.empty()) {
    return Err(Invalid(text, "empty"));
  }
  double total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
      ++pos;
    }
    if (pos == start) {
      return Err(Invalid(text, "expected a number"));
    }
    const std::string number(text.substr(start, pos - start));
    if (number == "." || number.find('.') != number.rfind('.')) {
      return Err(Invalid(text, "bad number"));
    }
    size_t unit_start = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') {
      ++pos;
    }
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (candidate.name == unit_name) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) {
      return Err(Invalid(text, unit_name.empty() ? "missing unit (ns, us, ms, s, m, h)"
                                                 : "unknown unit (ns, us, ms, s, m, h)"));
    }
    total += std::strtod(number.c_str(), nullptr) * unit->nanoseconds;
  }
  if (!std::isfinite(total) || total > 9.2e18) {
    return Err(Invalid(text, "too large"));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

std::string FormatDuration(std::chrono::nanoseconds duration) {
  int64_t ns = duration.count();
  if (ns == 0) {
    return "0s";
  }
  std::string out = ns < 0 ? "-" : "";
  uint64_t magnitude = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  if (magnitude < 1'000'000'000ULL) {
    if (magnitude % 1'000'000ULL == 0) {
      return out + fmt::format("{}ms", magnitude / 1'000'000ULL);
    }
    if (magnitude % 1'000ULL == 0) {
      return out + fmt::format("{}us", magnitude / 1'000ULL);
    }
    return out + fmt::format("{}ns", magnitude);
  }
  const uint64_t seconds = magnitude / 1'000'000'000ULL;
  const uint64_t hours = seconds / 3600;
  const uint64_t minutes = (seconds / 60) % 60;
  const uint64_t secs = seconds % 60;
  if (hours > 0) {
    out += fmt::format("{}h", hours);
  }
  if (minutes > 0) {
    out += fmt::format("{}m", minutes);
  }
  if (secs > 0 || (hours == 0 && minutes == 0)) {
    out += fmt::format("{}s", secs);
  }
  return out;
}

}  // namespace comet
