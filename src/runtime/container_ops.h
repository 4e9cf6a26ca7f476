// Internals shared by the runtime verbs: the context a command runs in, status derivation,
// creation, start, cleanup and foreground supervision. Not part of the runtime's public API
// (runtime.h); not thread-safe.
#ifndef COMET_RUNTIME_CONTAINER_OPS_H_
#define COMET_RUNTIME_CONTAINER_OPS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cgroup/manager.h"
#include "oci/spec.h"
#include "os/unique_fd.h"
#include "runtime/container_store.h"
#include "runtime/linux/init_plan.h"
#include "runtime/runtime.h"

namespace comet::runtime {

struct RuntimeContext {
  bool rootless = false;
  bool systemd_cgroup = false;
  ContainerStore store{""};
  std::string seccomp_cache_dir;  // GlobalOptions::seccomp_cache_dir
};

[[nodiscard]] RuntimeContext MakeContext(const GlobalOptions& global);

// creating, created, running, paused or stopped.
[[nodiscard]] std::string ComputeStatus(const RuntimeContext& context,
                                        const ContainerRecord& record);
[[nodiscard]] oci::State MakeState(const ContainerRecord& record, const std::string& status);
// The container's saved config.json.
[[nodiscard]] Result<oci::Spec> LoadSavedSpec(const RuntimeContext& context, const std::string& id);
// `known` when the caller holds the container's hooks (see runtime::Start), else those of the
// saved spec (read into `loaded`); null when it has none or cannot be read.
[[nodiscard]] const oci::Hooks* HooksOf(const RuntimeContext& context, const std::string& id,
                                        const oci::Hooks* known, std::optional<oci::Spec>& loaded);
// Null when the container runs without cgroups (rootless, not delegated).
[[nodiscard]] Result<std::unique_ptr<cgroup::Manager>> OpenCgroups(const ContainerRecord& record);
// Lets the intermediate move itself into `cgroups` (v1, see OpenSelfJoinFiles): fills
// plan.cgroup_joins and returns the files, to be kept open until Launch returns. When the
// result is empty the caller adds the intermediate itself (AddProcess) once it is ready.
[[nodiscard]] Result<std::vector<cgroup::SelfJoinFile>> PlanCgroupSelfJoin(
    const cgroup::Manager* cgroups, InitPlan& plan);

struct Created {
  ContainerRecord record;
  os::UniqueFd console;  // the pty master, when kept for a foreground `run`
};

// `keep_console`: a terminal container without --console-socket keeps its pty master in the
// result (foreground run) instead of failing.
[[nodiscard]] Result<Created> CreateContainer(const RuntimeContext& context,
                                              const CreateOptions& options, bool keep_console);
// `hooks`: the container's hooks when the caller holds them, else null (the saved spec's).
[[nodiscard]] Status StartContainer(const RuntimeContext& context, ContainerRecord& record,
                                    const oci::Hooks* hooks = nullptr);
// For a container whose processes are gone (or to be killed): kills what is left, removes its
// cgroups, runs the poststop hooks (failures are warnings) and removes its state. `hooks` as
// for StartContainer.
[[nodiscard]] Status DestroyContainer(const RuntimeContext& context, const ContainerRecord& record,
                                      const oci::Hooks* hooks = nullptr);

// Blocks every catchable signal (to be forwarded by SuperviseForeground) and ignores SIGPIPE;
// returns a signalfd for them. Call before launching, so no signal is lost or fatal meanwhile.
[[nodiscard]] Result<os::UniqueFd> BlockForwardedSignals();
// Waits for `pid` (a child of this process) while forwarding signals and, with a console,
// copying between this process's stdio and the pty. Returns the exit code (128+n when killed).
[[nodiscard]] Result<int> SuperviseForeground(pid_t pid, os::UniqueFd console,
                                              os::UniqueFd signals);

[[nodiscard]] Status WritePidFile(const std::string& path, pid_t pid);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_CONTAINER_OPS_H_
