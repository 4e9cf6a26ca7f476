// Compiles an OCI seccomp profile into a BPF program ahead of time (in the runtime's parent
// process, where allocation is fine) so that the container's init installs it with one syscall,
// allocation-free, just before exec. Thread-safe (no shared state).
#ifndef COMET_SECCOMP_FILTER_H_
#define COMET_SECCOMP_FILTER_H_

#include <linux/filter.h>

#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::seccomp {

struct CompiledFilter {
  std::vector<sock_filter> program;
  unsigned int flags = 0;       // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool needs_listener = false;  // some rule uses SCMP_ACT_NOTIFY: install returns a listener fd
};

// Fails with a message naming the field (e.g. "linux.seccomp.syscalls[3].action: unknown action
// \"SCMP_ACT_FOO\"") for unknown actions, architectures, operators, flags or arg indexes.
// Unknown syscall names are skipped, as runc and crun do, so one profile serves many kernels.
[[nodiscard]] Result<CompiledFilter> Compile(const oci::Seccomp& profile);

// Async-signal-safe; no allocation. Installs the filter on the calling thread. Returns the
// listener fd (>= 0) when `needs_listener`, 0 otherwise, or -errno.
int Install(const CompiledFilter& filter) noexcept;

}  // namespace comet::seccomp

#endif  // COMET_SECCOMP_FILTER_H_
