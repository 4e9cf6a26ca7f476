// Small string and time helpers with no OS or domain knowledge. Thread-safe (pure functions).
#ifndef COMET_BASE_STRINGS_H_
#define COMET_BASE_STRINGS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet {

std::vector<std::string> Split(std::string_view text, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view text, std::string_view prefix);
std::string_view TrimSpace(std::string_view text);

// Parses a whole decimal integer; nullopt on any junk or overflow.
std::optional<long long> ParseInt(std::string_view text);
std::optional<unsigned long long> ParseUint(std::string_view text);

// A JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

// `text` with bytes that are not printable ASCII escaped ("\x1b"), cut at `max_chars` characters
// (then "..." follows), for quoting hostile input in an error message.
std::string Printable(std::string_view text, size_t max_chars);
// `text` with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
// overlongs, surrogates or code points past U+10FFFF) replaced by U+FFFD, for protocols whose
// strings must be UTF-8 (protobuf's `string`) when the text comes from a program's output.
std::string ValidUtf8(std::string_view text);

// "2006-01-02T15:04:05.999999999Z" in UTC, as Go's time.RFC3339Nano prints it.
std::string FormatRfc3339Nano(std::chrono::system_clock::time_point when);

// Parses an RFC 3339 date-time: "2006-01-02T15:04:05Z", with an optional fraction (at most 9
// digits count, more are truncated) and "Z" or a "+hh:mm"/"-hh:mm" offset ('t' and 'z' in lower
// case too). Fields are range-checked (day of month, leap years); leap seconds are rejected.
[[nodiscard]] Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace comet

#endif  // COMET_BASE_STRINGS_H_
