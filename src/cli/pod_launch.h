// Becoming a pod's supervisor: the comet-supervisor command line and environment of
// pod-design.md, exec'd in this process (foreground) or in a detached child whose ready fd
// the caller waits on. Not thread-safe (forks and execs; call from main()'s thread).
#ifndef COMET_CLI_POD_LAUNCH_H_
#define COMET_CLI_POD_LAUNCH_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::cli {

// $COMET_SUPERVISOR, else comet-supervisor beside /proc/self/exe; it must be executable.
// A program shipped beside `comet` (comet-supervisor, comet-api-service): $ENV_VAR when set,
// else `name` in the directory of the running executable; an error naming `what` and ENV_VAR
// when it is not executable.
[[nodiscard]] Result<std::string> HelperBinary(const char* env_var, std::string_view name,
                                               std::string_view what);
[[nodiscard]] Result<std::string> SupervisorBinary();

struct SupervisorLaunch {
  std::string binary;
  std::string pod_dir;   // absolute: <data>/pods/run/<uuid>
  std::string data_dir;  // absolute
  int lock_fd = -1;      // inherited by the supervisor (COMET_LOCK_FD); consumed by Launch
  bool debug = false;
  bool rm = false;
  bool detach = false;
};

// The supervisor's argv (argv[0] = binary); `ready_fd` < 0 means foreground.
[[nodiscard]] std::vector<std::string> SupervisorArgv(const SupervisorLaunch& launch, int ready_fd);

struct LaunchResult {
  // False when the supervisor could not even be exec'd: the pod is untouched and the caller
  // must clean it up. True once it ran (a later failure is its own to clean up).
  bool started = false;
};

// Foreground: execs the supervisor and returns only if exec failed (started stays false). The
// lock fd is closed on failure. Detached: forks a child that starts a new session with
// /dev/null as stdio and execs the supervisor with --ready-fd; returns once the supervisor
// wrote "ok" (success) or an error (its message) or died without a word.
[[nodiscard]] Status LaunchSupervisor(const SupervisorLaunch& launch, LaunchResult& result);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_LAUNCH_H_
