// The container's setup processes, between fork and exec. The runtime forks the intermediate
// process, which joins and creates namespaces and forks the container's init (pid 1 of a new pid
// namespace); init builds the container and becomes the user's process. Without a user
// namespace the runtime clones init itself (CanCloneInitDirectly). Everything here is
// async-signal-safe and allocation-free: it only reads the InitPlan prepared by the parent.
#ifndef COMET_RUNTIME_LINUX_INIT_H_
#define COMET_RUNTIME_LINUX_INIT_H_

#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// Whether the runtime may create init itself, with clone(DirectInitCloneFlags(plan)), and skip
// the intermediate: no new user namespace, and no pid or time namespace that init could only
// enter as the child of the process joining or creating it (the clone flags make a new pid
// namespace).
[[nodiscard]] bool CanCloneInitDirectly(const InitPlan& plan) noexcept;
[[nodiscard]] int DirectInitCloneFlags(const InitPlan& plan) noexcept;

// Runs in the child of that clone: joins and creates the other namespaces, then builds the
// container as init. Never returns.
[[noreturn]] void RunDirectInit(const InitPlan& plan) noexcept;

// Runs in the child of the runtime's fork(). Never returns: exits after forking init, or after
// reporting a failure over plan.sync_fd.
[[noreturn]] void RunIntermediate(const InitPlan& plan) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_INIT_H_
