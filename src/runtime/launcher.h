// Launch: forks the intermediate process for an InitPlan (or, without a user namespace, clones
// init itself: CanCloneInitDirectly) and drives the setup conversation with it and with the
// container's init, calling back into the caller at each point where the
// runtime itself must act (id maps and cgroups, hooks, console, seccomp listener). The calling
// process becomes a child subreaper so that init, orphaned by the intermediate, stays its child
// until the caller exits. Not thread-safe; call from a single-threaded process.
#ifndef COMET_RUNTIME_LAUNCHER_H_
#define COMET_RUNTIME_LAUNCHER_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "base/result.h"
#include "os/unique_fd.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// The state JSON documents the container's own hooks get on stdin (empty: none).
struct HookStates {
  std::string create_container;  // status "creating"
  std::string start_container;   // status "created"
};

struct LaunchCallbacks {
  // The intermediate (pid) is in its new user namespace, if any: write maps, join cgroups.
  std::function<Status(pid_t)> on_namespaces_ready;
  // Init's pid (in the caller's pid namespace) is known.
  std::function<Status(pid_t)> on_init_pid;
  // Mounts are done: run prestart/createRuntime hooks. Returns the states for the container's
  // own hooks.
  std::function<Result<HookStates>(pid_t)> on_runtime_hooks;
  std::function<Status(os::UniqueFd)> on_console;
  std::function<Status(os::UniqueFd)> on_listener;
};

enum class LaunchUntil {
  kCreated,   // init is waiting on the exec fifo (create)
  kExecuted,  // init has exec'd the process (exec: the sync socket closed on exec)
};

// Returns init's pid. On failure init is killed and reaped, and the error says which step of
// the setup failed.
[[nodiscard]] Result<pid_t> Launch(InitPlan& plan, const LaunchCallbacks& callbacks,
                                   LaunchUntil until);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LAUNCHER_H_
