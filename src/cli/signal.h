// Signal names and numbers as `comet-runtime kill` takes them ("KILL", "SIGKILL", "kill", "9",
// "RTMIN+3"). Pure functions, thread-safe.
#ifndef COMET_CLI_SIGNAL_H_
#define COMET_CLI_SIGNAL_H_

#include <string_view>

#include "base/result.h"

namespace comet::cli {

// Parses a signal given by number (0..SIGRTMAX) or by name, case-insensitively, with or without
// the "SIG" prefix; real-time signals as RTMIN, RTMIN+n, RTMAX-n.
[[nodiscard]] Result<int> ParseSignal(std::string_view text);

}  // namespace comet::cli

#endif  // COMET_CLI_SIGNAL_H_
