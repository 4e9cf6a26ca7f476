// `exec`: a new process in a running container, through the same setup path as the container's
// own init (namespaces, cgroups, capabilities, seccomp, rlimits, no_new_privs) — rkt's `enter`
// skipped some of these, which cost it three CVEs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/strings.h"
#include "oci/spec_json.h"
#include "oci/validate.h"
#include "os/file.h"
#include "runtime/console.h"
#include "runtime/container_ops.h"
#include "runtime/launcher.h"
#include "runtime/namespaces.h"
#include "runtime/process_plan.h"

namespace comet::runtime {
namespace {

void SetEnv(std::vector<std::string>& env, const std::string& entry) {
  size_t eq = entry.find('=');
  std::string key = entry.substr(0, eq);
  for (std::string& existing : env) {
    if (existing.compare(0, key.size() + 1, key + "=") == 0) {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}

Status ApplyUser(oci::Process& process, const std::string& user) {
  std::vector<std::string> parts = Split(user, ':');
  auto uid = ParseUint(parts[0]);
  if (parts.size() > 2 || !uid || *uid > UINT32_MAX) {
    return Err(Error::Invalid("--user \"" + user + "\": expected uid[:gid] (numbers)"));
  }
  process.user.uid = static_cast<uint32_t>(*uid);
  if (parts.size() == 2) {
    auto gid = ParseUint(parts[1]);
    if (!gid || *gid > UINT32_MAX) {
      return Err(Error::Invalid("--user \"" + user + "\": invalid gid"));
    }
    process.user.gid = static_cast<uint32_t>(*gid);
  }
  return Ok();
}

Result<oci::Process> BuildExecProcess(const ExecOptions& options, const oci::Spec& spec) {
  oci::Process process;
  if (!options.process_path.empty()) {
    ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(options.process_path, 16U << 20));
    auto parsed = oci::ParseProcess(text);
    if (!parsed) {
      return Err(std::move(parsed).error().AddContext(options.process_path));
    }
    process = std::move(*parsed);
  } else {
    if (!spec.process) {
      return Err(Error::Invalid("the container has no process to take defaults from"));
    }
    process = *spec.process;
    process.args = options.args;
    process.terminal = options.tty;
    process.console_size.reset();
    for (const std::string& entry : options.env) {
      SetEnv(process.env, entry);
    }
    if (!options.cwd.empty()) {
      process.cwd = options.cwd;
    }
    if (!options.user.empty()) {
      RETURN_IF_ERROR(ApplyUser(process, options.user));
    }
    if (!options.additional_gids.empty()) {
      process.user.additional_gids = options.additional_gids;
    }
    if (options.no_new_privs) {
      process.no_new_privileges = true;
    }
    for (const std::string& cap : options.caps) {
      if (!process.capabilities) {
        process.capabilities.emplace();
      }
      oci::Capabilities& caps = *process.capabilities;
      for (auto* set :
           {&caps.bounding, &caps.effective, &caps.permitted, &caps.inheritable, &caps.ambient}) {
        set->push_back(cap);
      }
    }
  }
  if (process.args.empty()) {
    return Err(Error::Invalid("exec: no command given"));
  }
  RETURN_IF_ERROR(oci::ValidateProcess(process, "process"));
  return process;
}

// Whether `pid` (the container's init, whose user namespace exec joins) shares ours.
bool SameUserNamespace(pid_t pid) {
  struct stat theirs {};
  struct stat ours {};
  return ::stat(fmt::format("/proc/{}/ns/user", pid).c_str(), &theirs) == 0 &&
         ::stat("/proc/self/ns/user", &ours) == 0 && theirs.st_ino == ours.st_ino &&
         theirs.st_dev == ours.st_dev;
}

Result<ProcessPlan> BuildExecPlan(const ExecOptions& options, const oci::Spec& spec,
                                  const oci::Process& process, pid_t init) {
  ProcessPlanOptions process_options;
  const auto& linux_config = spec.linux_config;
  process_options.seccomp =
      linux_config && linux_config->seccomp ? &*linux_config->seccomp : nullptr;
  auto setgroups = os::ReadFileLimited(fmt::format("/proc/{}/setgroups", init), 64);
  process_options.set_groups = !setgroups || TrimSpace(*setgroups) != "deny";
  process_options.preserve_fds = options.preserve_fds;
  process_options.other_user_ns = !SameUserNamespace(init);
  process_options.stdio = options.stdio;
  return BuildProcessPlan(process, process_options);
}

// Hands a SCMP_ACT_NOTIFY listener to the profile's listenerPath.
Status SendListener(const oci::Seccomp& profile, const ContainerRecord& record,
                    const std::string& status, int listener) {
  if (profile.listener_path.empty()) {
    return Err(
        Error::Invalid("linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"));
  }
  std::string message = fmt::format(
      R"({{"ociVersion":"1.2.0","fds":["seccompFd"],"pid":{},"metadata":{},"state":{}}})",
      record.pid, JsonQuote(profile.listener_metadata),
      oci::StateToJson(MakeState(record, status)));
  return SendFdToSocket(profile.listener_path, listener, message);
}

// What a launched exec leaves for a foreground wait.
struct LaunchedExec {
  pid_t pid = 0;
  os::UniqueFd console;  // the pty master, kept when there is no console socket
  os::UniqueFd signals;  // forwarded signals (foreground only)
};

Result<LaunchedExec> LaunchExec(const GlobalOptions& global, const ExecOptions& options,
                                bool detach) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(ContainerRecord record, context.store.Load(options.id));
  std::string status = ComputeStatus(context, record);
  if (status != "running" && status != "created") {
    return Err(Error(EINVAL, fmt::format("cannot exec in a container that is {}", status)));
  }
  ASSIGN_OR_RETURN(oci::Spec spec, LoadSavedSpec(context, options.id));
  ASSIGN_OR_RETURN(oci::Process process, BuildExecProcess(options, spec));
  if (process.terminal && options.console_socket.empty() && detach) {
    return Err(Error::Invalid("--tty with --detach needs --console-socket"));
  }
  ASSIGN_OR_RETURN(NamespaceSetup namespaces, PrepareJoinAll(record.pid));
  // The namespaces were opened by pid: make sure it was still the container's init then.
  if (ProcessStartTime(record.pid) != record.pid_start_time) {
    return Err(Error(ESRCH, "container " + options.id + " is not running"));
  }
  InitPlan plan;
  plan.joins = namespaces.joins;
  ASSIGN_OR_RETURN(plan.process, BuildExecPlan(options, spec, process, record.pid));
  ASSIGN_OR_RETURN(auto cgroups, OpenCgroups(record));

  LaunchedExec launched;
  LaunchCallbacks callbacks;
  ASSIGN_OR_RETURN(auto cgroup_files, PlanCgroupSelfJoin(cgroups.get(), plan));
  plan.namespaces_sync = cgroups && plan.cgroup_joins.empty();
  plan.runtime_hooks_sync = false;  // an exec'd process runs no container hooks
  callbacks.on_namespaces_ready = [&cgroups](pid_t joined) -> Status {
    return cgroups->AddProcess(joined);
  };
  callbacks.on_console = [&](os::UniqueFd master) -> Status {
    if (!options.console_socket.empty()) {
      return SendFdToSocket(options.console_socket, master.get(), "/dev/ptmx");
    }
    launched.console = std::move(master);
    return Ok();
  };
  callbacks.on_listener = [&](os::UniqueFd listener) -> Status {
    return SendListener(*spec.linux_config->seccomp, record, status, listener.get());
  };
  if (!detach) {
    ASSIGN_OR_RETURN(launched.signals, BlockForwardedSignals());
  }
  auto pid = Launch(plan, callbacks, LaunchUntil::kExecuted);
  if (!pid) {
    return Err(std::move(pid).error().AddContext("exec in container " + options.id));
  }
  launched.pid = *pid;
  if (!options.pid_file.empty()) {
    RETURN_IF_ERROR(WritePidFile(options.pid_file, launched.pid));
  }
  return launched;
}

}  // namespace

Result<int> Exec(const GlobalOptions& global, const ExecOptions& options) {
  ASSIGN_OR_RETURN(LaunchedExec launched, LaunchExec(global, options, options.detach));
  if (options.detach) {
    return 0;
  }
  return SuperviseForeground(launched.pid, std::move(launched.console),
                             std::move(launched.signals));
}

Result<pid_t> ExecDetached(const GlobalOptions& global, const ExecOptions& options) {
  ASSIGN_OR_RETURN(LaunchedExec launched, LaunchExec(global, options, /*detach=*/true));
  return launched.pid;
}

}  // namespace comet::runtime
