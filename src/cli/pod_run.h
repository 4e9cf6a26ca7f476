// Stage0 of a pod (rkt's stage0): `comet run`, `prepare`, `run-prepared`, `app sandbox` and
// `app add`. Turns the raw arguments and images into a pod directory (manifest, image lease,
// unpacked layers) and then becomes the pod's supervisor by exec'ing comet-supervisor. Not
// thread-safe (called once from main(); may fork and exec).
#ifndef COMET_CLI_POD_RUN_H_
#define COMET_CLI_POD_RUN_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "cli/comet_command_line.h"
#include "cli/pod_run_flags.h"

namespace comet::cli {

// True for "run", "prepare", "run-prepared", "app sandbox", "app add".
bool IsPodRunCommand(const std::string& command);

// Runs `command` ("run", "prepare", "run-prepared", "app sandbox", "app add") with `args`, the
// raw arguments after the command word (parsed here, rkt-style: pod flags, then
// `IMAGE [app flags] [-- ARGS...]` groups separated by `---`). A foreground run execs the
// supervisor and so returns only on error. Returns the exit code on success (0 for prepare,
// detached run, app add), or the error to report (exit 254). "--help"/"-h" among the pod flags
// prints PodRunHelp(command) and returns 0.
[[nodiscard]] Result<int> RunPodCommand(const CometGlobalFlags& global, const std::string& command,
                                        const std::vector<std::string>& args);

// Makes a pod from parsed options (run, prepare, app sandbox; `comet play` builds the options
// itself), as RunPodCommand would; `uuid` (optional) gets the new pod's UUID as soon as its
// directory exists. A foreground run execs the supervisor and so returns only on error.
[[nodiscard]] Result<int> MakePod(const CometGlobalFlags& global, const PodRunOptions& options,
                                  std::string* uuid);

// The --help text of one of these commands (wrapped with WrapHelp).
std::string PodRunHelp(const std::string& command);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_RUN_H_
