// Hook plans and parent-side hook runs.
#include "runtime/hooks.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "runtime/linux/child_ops.h"

namespace comet::runtime {

std::vector<HookPlan> BuildHookPlans(const std::vector<oci::Hook>& hooks) {
  std::vector<HookPlan> plans;
  plans.reserve(hooks.size());
  for (const oci::Hook& hook : hooks) {
    HookPlan plan;
    plan.path = hook.path;
    // argv[0] defaults to the path when args is empty, as execve callers usually expect.
    plan.argv = CStringArray(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args);
    plan.envp = CStringArray(hook.env);
    plan.timeout_seconds = hook.timeout.value_or(0);
    plans.push_back(std::move(plan));
  }
  return plans;
}

Result<os::UniqueFd> StateMemfd(std::string_view json) {
  os::UniqueFd fd(::memfd_create("comet-state", MFD_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("memfd_create", "state"));
  }
  RETURN_IF_ERROR(os::WriteAll(fd.get(), json));
  return fd;
}

namespace {

Status RunOne(const HookPlan& plan, int state_fd, std::string_view kind) {
  int status = RunHookProcess(plan, state_fd);
  if (status < 0) {
    return Err(Error::FromCode(-status, fmt::format("running {} hook", kind), plan.path));
  }
  if (status == 127) {
    return Err(Error(ENOENT, fmt::format("{} hook {}: could not be executed", kind, plan.path)));
  }
  if (status != 0) {
    return Err(
        Error(ECHILD,
              fmt::format(
                  "{} hook {}: exited with status {}{}", kind, plan.path, status,
                  plan.timeout_seconds > 0 && status == 137 ? " (killed after its timeout)" : "")));
  }
  return Ok();
}

}  // namespace

Status RunHooks(const std::vector<oci::Hook>& hooks, std::string_view state_json,
                std::string_view kind) {
  if (hooks.empty()) {
    return Ok();
  }
  ASSIGN_OR_RETURN(os::UniqueFd state, StateMemfd(state_json));
  for (const HookPlan& plan : BuildHookPlans(hooks)) {
    RETURN_IF_ERROR(RunOne(plan, state.get(), kind));
  }
  return Ok();
}

void RunHooksWarnOnly(const std::vector<oci::Hook>& hooks, std::string_view state_json,
                      std::string_view kind) {
  if (hooks.empty()) {
    return;
  }
  auto state = StateMemfd(state_json);
  if (!state) {
    log::Warning("{} hooks: {}", kind, state.error().ToString());
    return;
  }
  for (const HookPlan& plan : BuildHookPlans(hooks)) {
    if (auto st = RunOne(plan, state->get(), kind); !st) {
      log::Warning("{}", st.error().ToString());
    }
  }
}

}  // namespace comet::runtime
