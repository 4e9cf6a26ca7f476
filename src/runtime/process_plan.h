// Turns an OCI `process` (plus the container's seccomp profile) into a ProcessPlan that the
// container's init can apply without allocating: capability masks, rlimit numbers, argv/envp
// arrays, $PATH candidates. Runs in the runtime's parent. Thread-safe (no shared state).
#ifndef COMET_RUNTIME_PROCESS_PLAN_H_
#define COMET_RUNTIME_PROCESS_PLAN_H_

#include <optional>
#include <string>

#include "base/result.h"
#include "oci/spec.h"
#include "runtime/linux/init_plan.h"
#include "runtime/runtime.h"

namespace comet::runtime {

struct ProcessPlanOptions {
  const oci::Seccomp* seccomp = nullptr;  // linux.seccomp, when present
  std::string seccomp_cache_dir;          // GlobalOptions::seccomp_cache_dir
  bool set_groups = true;
  int preserve_fds = 0;
  std::string session_keyring;  // empty: none (--no-new-keyring, exec)
  bool create_cwd = false;
  // The process runs in a user namespace other than the caller's (a new one, or a container's
  // joined by exec): CAP_SYS_RESOURCE does not count there for lowering oom_score_adj.
  bool other_user_ns = false;
  StdioFds stdio;  // ignored when process.terminal
};

[[nodiscard]] Result<ProcessPlan> BuildProcessPlan(const oci::Process& process,
                                                   const ProcessPlanOptions& options);

// Capability name ("CAP_CHOWN") to number; error naming `field` when unknown.
[[nodiscard]] Result<int> CapabilityNumber(const std::string& name, const std::string& field);
// Highest capability the running kernel knows.
int LastCapability();
// The oom_score_adj to write: `requested`, or the current score when the request is lower and the
// process will lack CAP_SYS_RESOURCE in the initial user namespace (the kernel would refuse it:
// not held, or `other_user_ns`); the clamp is logged as a warning.
int ClampOomScoreAdj(int requested, bool other_user_ns = false);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_PROCESS_PLAN_H_
