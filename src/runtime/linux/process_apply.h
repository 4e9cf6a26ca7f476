// The last steps of a container process before execve: limits, terminal, credentials,
// capabilities, no_new_privs, seccomp, fds. Async-signal-safe and allocation-free.
#ifndef COMET_RUNTIME_LINUX_PROCESS_APPLY_H_
#define COMET_RUNTIME_LINUX_PROCESS_APPLY_H_

#include "runtime/linux/child_report.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// Becomes the user's process. Returns only on failure, with `report` filled.
// `tty_peer` >= 0 becomes the controlling terminal and fds 0-2.
void ExecProcess(const ProcessPlan& process, const char* executable, int tty_peer,
                 bool seccomp_installed, ChildReport* report) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_PROCESS_APPLY_H_
