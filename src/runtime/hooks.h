// OCI hooks (runtime-spec config.md#posix-platform-hooks): each gets the container's state JSON
// on stdin. The runtime's own hooks (prestart, createRuntime, poststart, poststop) run here in the
// parent; createContainer/startContainer hooks run inside the container from HookPlans.
#ifndef COMET_RUNTIME_HOOKS_H_
#define COMET_RUNTIME_HOOKS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "os/unique_fd.h"
#include "runtime/linux/init_plan.h"

namespace comet::runtime {

std::vector<HookPlan> BuildHookPlans(const std::vector<oci::Hook>& hooks);
// A sealed-size memfd holding `json`, to be every hook's stdin.
[[nodiscard]] Result<os::UniqueFd> StateMemfd(std::string_view json);
// Runs each hook in order; the first failure stops the rest and is returned, naming `kind`
// ("createRuntime") and the hook's path.
[[nodiscard]] Status RunHooks(const std::vector<oci::Hook>& hooks, std::string_view state_json,
                              std::string_view kind);

// For poststart and poststop: every hook runs; each failure is logged as a warning.
void RunHooksWarnOnly(const std::vector<oci::Hook>& hooks, std::string_view state_json,
                      std::string_view kind);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_HOOKS_H_
