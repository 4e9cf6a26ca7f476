// String and time helpers.
#include "base/strings.h"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace comet {

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view TrimSpace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

std::optional<long long> ParseInt(std::string_view text) {
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<unsigned long long> ParseUint(std::string_view text) {
  unsigned long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string Printable(std::string_view text, size_t max_chars) {
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (text.size() > max_chars) {
    out += "...";
  }
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string FormatRfc3339Nano(std::chrono::system_clock::time_point when) {
  auto since_epoch = when.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count();
  auto t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string fraction = fmt::format("{:09d}", nanos);
  while (!fraction.empty() && fraction.back() == '0') {
    fraction.pop_back();
  }
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     fraction.empty() ? "" : ".", fraction);
}

namespace {

// Reads exactly `width` digits at text[*pos], advancing *pos; false on anything else.
bool TakeDigits(std::string_view text, size_t* pos, size_t width, int* out) {
  if (*pos + width > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  *pos += width;
  *out = value;
  return true;
}

bool TakeChar(std::string_view text, size_t* pos, char expected) {
  if (*pos >= text.size() || text[*pos] != expected) {
    return false;
  }
  ++*pos;
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so that
// no timegm/TZ state is involved.
long long DaysFromCivil(int year, int month, int day) {
  long long y = month <= 2 ? year - 1 : year;
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long mp = (month + 9) % 12;
  long long doy = (153 * mp + 2) / 5 + day - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The calendar fields of an RFC 3339 date-time.
struct DateTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "yyyy-mm-ddThh:mm:ss" at text[*pos], range-checked; false on anything else.
bool TakeDateTime(std::string_view text, size_t* pos, DateTime* out) {
  DateTime t;
  if (!TakeDigits(text, pos, 4, &t.year) || !TakeChar(text, pos, '-') ||
      !TakeDigits(text, pos, 2, &t.month) || !TakeChar(text, pos, '-') ||
      !TakeDigits(text, pos, 2, &t.day)) {
    return false;
  }
  if (*pos >= text.size() || (text[*pos] != 'T' && text[*pos] != 't')) {
    return false;
  }
  ++*pos;
  if (!TakeDigits(text, pos, 2, &t.hour) || !TakeChar(text, pos, ':') ||
      !TakeDigits(text, pos, 2, &t.minute) || !TakeChar(text, pos, ':') ||
      !TakeDigits(text, pos, 2, &t.second)) {
    return false;
  }
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) ||
      t.hour > 23 || t.minute > 59 || t.second > 59) {
    return false;
  }
  *out = t;
  return true;
}

// An optional ".digits" fraction at text[*pos] as nanoseconds (digits past the 9th are
// truncated); false on a '.' without digits.
bool TakeFraction(std::string_view text, size_t* pos, long long* nanos) {
  *nanos = 0;
  if (*pos >= text.size() || text[*pos] != '.') {
    return true;
  }
  ++*pos;
  size_t digits = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    if (digits < 9) {
      *nanos = *nanos * 10 + (text[*pos] - '0');
    }
    ++digits;
    ++*pos;
  }
  if (digits == 0) {
    return false;
  }
  for (size_t i = digits; i < 9; ++i) {
    *nanos *= 10;
  }
  return true;
}

// "Z"/"z" or "+hh:mm"/"-hh:mm" at text[*pos], as seconds east of UTC; false on anything else.
bool TakeOffset(std::string_view text, size_t* pos, long long* offset_seconds) {
  *offset_seconds = 0;
  if (*pos < text.size() && (text[*pos] == 'Z' || text[*pos] == 'z')) {
    ++*pos;
    return true;
  }
  if (*pos >= text.size() || (text[*pos] != '+' && text[*pos] != '-')) {
    return false;
  }
  int sign = text[*pos] == '-' ? -1 : 1;
  ++*pos;
  int off_hour = 0;
  int off_minute = 0;
  if (!TakeDigits(text, pos, 2, &off_hour) || !TakeChar(text, pos, ':') ||
      !TakeDigits(text, pos, 2, &off_minute) || off_hour > 23 || off_minute > 59) {
    return false;
  }
  *offset_seconds = sign * (off_hour * 3600LL + off_minute * 60LL);
  return true;
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  DateTime t;
  long long nanos = 0;
  long long offset_seconds = 0;
  if (!TakeDateTime(text, &pos, &t) || !TakeFraction(text, &pos, &nanos) ||
      !TakeOffset(text, &pos, &offset_seconds) || pos != text.size()) {
    return Err(Error::Invalid("\"" + std::string(text) + "\": not an RFC 3339 time"));
  }
  long long seconds = DaysFromCivil(t.year, t.month, t.day) * 86400LL + t.hour * 3600LL +
                      t.minute * 60LL + t.second - offset_seconds;
  auto since_epoch = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos));
  return std::chrono::system_clock::time_point(since_epoch);
}

namespace {

bool IsContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// The length of the well-formed sequence at text[i], or 0.
size_t Utf8SequenceAt(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  const size_t left = text.size() - i;
  if (lead < 0x80) {
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    return left >= 2 && IsContinuation(byte(1)) ? 2 : 0;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (left < 3 || !IsContinuation(byte(1)) || !IsContinuation(byte(2))) {
      return 0;
    }
    const bool overlong = lead == 0xE0 && byte(1) < 0xA0;
    const bool surrogate = lead == 0xED && byte(1) > 0x9F;
    return overlong || surrogate ? 0 : 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (left < 4 || !IsContinuation(byte(1)) || !IsContinuation(byte(2)) ||
        !IsContinuation(byte(3))) {
      return 0;
    }
    const bool overlong = lead == 0xF0 && byte(1) < 0x90;
    const bool too_big = lead == 0xF4 && byte(1) > 0x8F;
    return overlong || too_big ? 0 : 4;
  }
  return 0;
}

}  // namespace

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceAt(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace comet
