// The last steps of a container process before execve: limits, terminal, credentials,
// capabilities, no_new_privs, seccomp, fds. Async-signal-safe and allocation-free.
#ifndef COMET_RUNTIME_LINUX_PROCESS_APPLY_H_
#define COMET_RUNTIME_LINUX_PROCESS_APPLY_H_

#include "runtime/linux/child_report.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// Puts the plan's stdio fds on 0-2, then marks every fd above the preserved ones close-on-exec.
// First of all (before any seccomp filter and the rlimits), so that no profile can deny
// close_range or dup2 and no lowered RLIMIT_NOFILE can refuse the temporary fds.
bool PrepareFds(const ProcessPlan& process, ChildReport* report) noexcept;

// Really closes (not close-on-exec) every fd from 3 + preserve_fds up, except the `count` fds
// in `keep` (-1 entries ignored, at most 8). Init calls it before it blocks on the exec fifo, so
// that between create and start it holds none of its creator's fds (a pod supervisor's lock,
// pipes and sockets would otherwise outlive the supervisor's crash in that window).
bool CloseFdsExcept(const ProcessPlan& process, const int* keep, int count,
                    ChildReport* report) noexcept;

// Everything that can fail because of the config, done before `create` returns (as runc does):
// keyring, rlimits, oom_score_adj, personality, terminal, seccomp unless it waits for
// no_new_privs, credentials and capabilities, cwd, umask. `tty_peer` >= 0 becomes the
// controlling terminal and fds 0-2. Returns false with `report` filled.
bool PrepareProcess(const ProcessPlan& process, int tty_peer, bool seccomp_installed,
                    ChildReport* report) noexcept;

// After start: no_new_privs, the late seccomp filter, execve. Returns only on failure.
void FinishExec(const ProcessPlan& process, const char* executable, bool seccomp_installed,
                ChildReport* report) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_PROCESS_APPLY_H_
