// `comet-runtime ps` in table form: run the host's ps(1) and keep the header plus the lines of
// the container's processes. Thread-safe; RunPs forks and waits for a child.
#ifndef COMET_CLI_PS_TABLE_H_
#define COMET_CLI_PS_TABLE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::cli {

// Keeps the header line of `ps_output` and the lines whose PID column (found by its header
// "PID") holds one of `pids`. Fails when the header has no PID column or a kept row's PID is
// not a number.
[[nodiscard]] Result<std::string> FilterPsOutput(std::string_view ps_output,
                                                 const std::vector<pid_t>& pids);

// Runs `ps <args...>` (found in $PATH) and returns its stdout and stderr together. A non-zero
// exit is an error that carries ps's own output.
[[nodiscard]] Result<std::string> RunPs(const std::vector<std::string>& args);

// The JSON form (`ps --format json`): "[1,2,3]\n".
std::string FormatPidsJson(const std::vector<pid_t>& pids);

}  // namespace comet::cli

#endif  // COMET_CLI_PS_TABLE_H_
