// The pod commands that work on existing pods (list, status, stop, rm, gc, cat-manifest, logs,
// enter, exec, attach, app start/stop/rm/list/status/exec), run from a parsed CometInvocation
// against the pods directory, the pods' status files and their supervisors' control sockets.
// stage0's commands (run, prepare, ...) are in pod_run.h. Not thread-safe (called from main()).
#ifndef COMET_CLI_POD_COMMANDS_H_
#define COMET_CLI_POD_COMMANDS_H_

#include <string>

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace comet::cli {

// True when `command` ("list", "app start", ...) is one of these.
bool IsPodCommand(const std::string& command);

// True for those that change pods on disk (rm, gc) and so run in the rootless user namespace.
bool PodCommandNeedsUserNamespace(const std::string& command);

// Stops a pod (its grace period, then SIGKILL) when it runs and removes it, as `stop` then `rm`
// would (`comet play --down` and `--replace`). A pod that is gone already is an error.
[[nodiscard]] Status StopAndRemovePod(const CometGlobalFlags& global, const std::string& uuid);

// Runs the command; its exit code (exec, enter, attach: the process's), or the error to report.
[[nodiscard]] Result<int> RunPodManagementCommand(const CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_COMMANDS_H_
