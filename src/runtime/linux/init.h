// The container's setup processes, between fork and exec. The runtime forks the intermediate
// process, which joins and creates namespaces and forks the container's init (pid 1 of a new pid
// namespace); init builds the container and becomes the user's process. Everything here is
// async-signal-safe and allocation-free: it only reads the InitPlan prepared by the parent.
#ifndef COMET_RUNTIME_LINUX_INIT_H_
#define COMET_RUNTIME_LINUX_INIT_H_

#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// Runs in the child of the runtime's fork(). Never returns: exits after forking init, or after
// reporting a failure over plan.sync_fd.
[[noreturn]] void RunIntermediate(const InitPlan& plan) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_INIT_H_
