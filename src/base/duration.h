// Go-style durations on the command line ("30m", "24h", "1h30m", "90s", "500ms", "0"), as rkt's
// and the kubelet's flags take them. Pure functions, thread-safe.
#ifndef COMET_BASE_DURATION_H_
#define COMET_BASE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace comet {

// Parses a sequence of <number><unit> (units ns, us, ms, s, m, h; decimals allowed: "1.5h"),
// or "0". Negative durations and values beyond ~292 years are errors.
[[nodiscard]] Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// The shortest Go-style form: "24h0m0s" is written "24h", "90s" as "1m30s".
std::string FormatDuration(std::chrono::nanoseconds duration);

}  // namespace comet

#endif  // COMET_BASE_DURATION_H_
