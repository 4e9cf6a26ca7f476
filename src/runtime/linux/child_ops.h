// Small async-signal-safe, allocation-free operations used by the container's setup processes:
// formatting into fixed buffers, running a hook, finding the executable, mkdir -p.
#ifndef COMET_RUNTIME_LINUX_CHILD_OPS_H_
#define COMET_RUNTIME_LINUX_CHILD_OPS_H_

#include <cstddef>

#include "runtime/linux/child_report.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

// "<prefix><stage> <detail>: <strerror>\n" to `fd`.
void WriteReport(int fd, const ChildReport& report, const char* prefix) noexcept;
// The same to fd 2, prefixed "comet-runtime: ".
void WriteReportToStderr(const ChildReport& report) noexcept;
// "user", "mnt", ... for a CLONE_NEW* flag.
const char* NamespaceName(int nstype) noexcept;
// "/proc/self/fd/<fd>".
void FormatFdPath(char* buffer, size_t size, int fd) noexcept;
// Forks and execs the hook with `state_fd` (rewound) on stdin; waits for it, killing it after its
// timeout. Returns 0 when it exited 0, the exit status (> 0) otherwise, or -errno.
int RunHookProcess(const HookPlan& hook, int state_fd) noexcept;
// The first of exec_candidates that is an executable regular file, or nullptr.
const char* ResolveExecutable(const ProcessPlan& process) noexcept;
// Unblocks every signal and restores SIGPIPE's default action: a runtime that supervises in the
// foreground blocks signals (to read them from a signalfd) and ignores SIGPIPE, and both would
// otherwise be inherited by the container's processes and hooks across exec.
void ResetSignals() noexcept;
// mkdir -p (mode 0755); returns 0 or -1 with errno.
int MakeDirs(const char* path) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_CHILD_OPS_H_
