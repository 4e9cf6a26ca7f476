// The pod commands that talk to a running pod's supervisor: enter, exec, app exec, attach and
// app start/stop/rm, plus app list/status (read from the status files). Not thread-safe
// (called from main(); exec and attach take over the terminal while they run).
#ifndef COMET_CLI_POD_EXEC_H_
#define COMET_CLI_POD_EXEC_H_

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace comet::cli {

// enter, exec, app exec: the process's exit code.
[[nodiscard]] Result<int> RunPodExec(const CometInvocation& invocation);
// attach: the app's exit code, or 0 when detached.
[[nodiscard]] Result<int> RunPodAttach(const CometInvocation& invocation);
// app start, app stop, app rm, app list, app status.
[[nodiscard]] Result<int> RunAppCommand(const CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_EXEC_H_
