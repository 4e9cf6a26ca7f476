// `comet logs`: the CRI-format logs of a pod's apps, merged, tailed or followed. Not
// thread-safe as a whole (called from main(); following several apps uses one thread each).
#ifndef COMET_CLI_POD_LOGS_H_
#define COMET_CLI_POD_LOGS_H_

#include <chrono>
#include <optional>
#include <string>

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace comet::cli {

// --since: a duration back from `now` ("10m") or an RFC 3339 time.
[[nodiscard]] Result<std::chrono::system_clock::time_point> ParseSince(
    const std::string& text, std::chrono::system_clock::time_point now);

[[nodiscard]] Result<int> RunPodLogs(const CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_LOGS_H_
