// `create`: from a bundle to a container whose init waits on the exec fifo. Builds every plan in
// this process first (so the setup processes never allocate), then launches, and on any failure
// undoes what was made: init killed, cgroups removed, state directory gone.
#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "base/log.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "oci/spec_json.h"
#include "oci/validate.h"
#include "os/file.h"
#include "runtime/console.h"
#include "runtime/container_ops.h"
#include "runtime/hooks.h"
#include "runtime/id_map.h"
#include "runtime/launcher.h"
#include "runtime/linux/rootfs.h"
#include "runtime/namespaces.h"
#include "runtime/process_plan.h"

namespace comet::runtime {
namespace {

Result<std::vector<SysctlPlan>> BuildSysctls(const std::map<std::string, std::string>& sysctl) {
  std::vector<SysctlPlan> plans;
  for (const auto& [key, value] : sysctl) {
    if (key.empty() || key.find("..") != std::string::npos || key.front() == '/' ||
        key.front() == '.') {
      return Err(Error::Invalid(fmt::format("linux.sysctl: invalid key \"{}\"", key)));
    }
    std::string path = key;
    for (char& c : path) {
      if (c == '.') {
        c = '/';
      }
    }
    plans.push_back({"/proc/sys/" + path, value});
  }
  return plans;
}

std::string TimensOffsets(const std::map<std::string, int64_t>& offsets) {
  std::string text;
  for (const auto& [clock, seconds] : offsets) {
    text += fmt::format("{} {} 0\n", clock, seconds);
  }
  return text;
}

Result<std::optional<unsigned long>> BuildPersonality(const oci::Linux& linux_config) {
  if (!linux_config.personality) {
    return std::optional<unsigned long>();
  }
  const std::string& domain = linux_config.personality->domain;
  if (domain == "LINUX") {
    return std::optional<unsigned long>(PER_LINUX);
  }
  if (domain == "LINUX32") {
    return std::optional<unsigned long>(PER_LINUX32);
  }
  return Err(Error::Invalid("linux.personality.domain: unknown domain \"" + domain + "\""));
}

// Devices every container may use (runc and crun allow the same): mknod of anything, the
// default device nodes, ptys. linux.devices are not added: a rule must allow them.
std::vector<oci::DeviceCgroup> DefaultDeviceRules() {
  auto rule = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 const char* access) {
    oci::DeviceCgroup device;
    device.allow = true;
    device.type = type;
    device.major = major;
    device.minor = minor;
    device.access = access;
    return device;
  };
  std::vector<oci::DeviceCgroup> rules = {
      rule("c", std::nullopt, std::nullopt, "m"),
      rule("b", std::nullopt, std::nullopt, "m"),
      rule("c", 1, 3, "rwm"),
      rule("c", 1, 5, "rwm"),
      rule("c", 1, 7, "rwm"),
      rule("c", 1, 8, "rwm"),
      rule("c", 1, 9, "rwm"),
      rule("c", 5, 0, "rwm"),
      rule("c", 5, 2, "rwm"),
      rule("c", 136, std::nullopt, "rwm"),
  };
  return rules;
}

bool DeniesEverything(const oci::DeviceCgroup& rule) {
  return !rule.allow && (rule.type.empty() || rule.type == "a") && !rule.major && !rule.minor;
}

// The config's rules with the defaults placed after its leading deny-all rules: a config that
// starts by denying everything keeps the defaults, and its later rules can still deny one of
// them (rules apply in order, the last match wins).
std::vector<oci::DeviceCgroup> WithDefaultDevices(const std::vector<oci::DeviceCgroup>& rules) {
  auto first_other = std::find_if_not(rules.begin(), rules.end(), DeniesEverything);
  std::vector<oci::DeviceCgroup> out(rules.begin(), first_other);
  std::vector<oci::DeviceCgroup> defaults = DefaultDeviceRules();
  out.insert(out.end(), defaults.begin(), defaults.end());
  out.insert(out.end(), first_other, rules.end());
  return out;
}

// Everything about a create that must outlive the launch and be undone on failure.
class CreateJob {
 public:
  CreateJob(const RuntimeContext& context, const CreateOptions& options, bool keep_console)
      : context_(context), options_(options), keep_console_(keep_console) {}

  Result<Created> Run();

 private:
  Status LoadBundle();
  Status PrepareCgroups();
  Status BuildPlan();
  LaunchCallbacks Callbacks();
  std::string StateJson(const std::string& status) const {
    return oci::StateToJson(MakeState(created_.record, status));
  }
  void Undo();

  const RuntimeContext& context_;
  const CreateOptions& options_;
  bool keep_console_;
  Created created_;
  oci::Spec loaded_spec_;            // read from the bundle, when the caller gave no spec
  const oci::Spec* spec_ = nullptr;  // options_.spec or &loaded_spec_, once LoadBundle ran
  std::string mountinfo_;            // /proc/self/mountinfo, read once for rootfs and cgroups
  NamespaceSetup namespaces_;
  std::unique_ptr<cgroup::Manager> cgroups_;
  InitPlan plan_;
  os::UniqueFd fifo_;
  bool dir_made_ = false;
};

Status CreateJob::LoadBundle() {
  std::error_code error;
  std::string bundle = std::filesystem::canonical(options_.bundle, error).string();
  if (error) {
    return Err(Error::FromCode(error.value(), "bundle", options_.bundle));
  }
  if (options_.spec == nullptr) {
    auto spec = oci::LoadSpec(bundle);
    if (!spec) {
      return Err(std::move(spec).error());
    }
    loaded_spec_ = std::move(*spec);
    spec_ = &loaded_spec_;
  } else {
    spec_ = options_.spec;  // the caller's, parsed or built: validated as a loaded one
  }
  oci::ValidateOptions validate;
  validate.rootless = context_.rootless;
  auto valid = oci::Validate(*spec_, validate);
  if (!valid) {
    return Err(std::move(valid).error().AddContext("bundle " + bundle + ": config.json"));
  }
  ContainerRecord& record = created_.record;
  record.id = options_.id;
  record.bundle = bundle;
  const std::string& root_path = spec_->root.path;
  record.rootfs = root_path.front() == '/' ? root_path : os::JoinPath(bundle, root_path);
  record.created = FormatRfc3339Nano(std::chrono::system_clock::now());
  record.owner_uid = ::geteuid();
  record.rootless = context_.rootless;
  record.annotations = spec_->annotations;
  return Ok();
}

Status CreateJob::PrepareCgroups() {
  const oci::Linux& linux_config = *spec_->linux_config;
  const std::string& path = linux_config.cgroups_path;
  if (context_.systemd_cgroup) {
    if (std::count(path.begin(), path.end(), ':') == 2) {
      return Err(Error(ENOTSUP, "linux.cgroupsPath \"" + path +
                                    "\": the systemd cgroup driver is not supported yet; "
                                    "use a cgroupfs path and no --systemd-cgroup"));
    }
  }
  ASSIGN_OR_RETURN(std::string proc_cgroup, os::ReadFile("/proc/self/cgroup"));
  ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::ParseLayout(mountinfo_, proc_cgroup));
  if (context_.rootless && !cgroup::CanWrite(layout, path, options_.id)) {
    if (linux_config.resources) {
      log::Warning("cgroups are not delegated to this user: linux.resources are not applied");
    }
    return Ok();
  }
  auto manager = cgroup::Manager::Create(layout, path, options_.id);
  if (!manager) {
    return Err(std::move(manager).error().AddContext("linux.cgroupsPath"));
  }
  cgroups_ = std::move(*manager);
  oci::Resources resources = linux_config.resources.value_or(oci::Resources{});
  resources.devices = WithDefaultDevices(resources.devices);
  RETURN_IF_ERROR_CTX(cgroups_->Apply(resources), "linux.resources");
  created_.record.cgroup_paths = cgroups_->Paths();
  return Ok();
}

Status CreateJob::BuildPlan() {
  const oci::Spec& spec = *spec_;
  const oci::Linux& linux_config = *spec.linux_config;
  ASSIGN_OR_RETURN(namespaces_, PrepareNamespaces(linux_config.namespaces));
  if (!namespaces_.has_mount_ns) {
    return Err(Error::Invalid("linux.namespaces: a mount namespace is required"));
  }
  bool user_ns_in_spec = std::any_of(linux_config.namespaces.begin(), linux_config.namespaces.end(),
                                     [](const oci::Namespace& ns) { return ns.type == "user"; });
  // A rootless caller that already runs in a user namespace of its own (the pod supervisor,
  // uid 0 there) may run the container in that namespace; one in the initial namespace may not.
  bool shares_caller_user_ns = !user_ns_in_spec && InChildUserNamespace();
  if (context_.rootless && !user_ns_in_spec && !shares_caller_user_ns) {
    return Err(Error::Invalid("linux.namespaces: a rootless container needs a user namespace"));
  }
  plan_.joins = namespaces_.joins;
  plan_.new_user_ns = namespaces_.new_user_ns;
  plan_.unshare_flags = namespaces_.unshare_flags;
  plan_.timens_offsets = TimensOffsets(linux_config.time_offsets);
  if (!spec.hostname.empty()) {
    plan_.hostname = spec.hostname;
  }
  if (!spec.domainname.empty()) {
    plan_.domainname = spec.domainname;
  }
  if (namespaces_.new_mount_ns) {
    RootfsContext rootfs;
    rootfs.bundle = created_.record.bundle;
    rootfs.rootfs = created_.record.rootfs;
    rootfs.rootless = context_.rootless;
    rootfs.new_user_ns = namespaces_.new_user_ns;
    rootfs.new_mount_ns = true;
    rootfs.new_cgroup_ns = namespaces_.new_cgroup_ns;
    rootfs.no_pivot = options_.no_pivot;
    rootfs.mountinfo = &mountinfo_;
    ASSIGN_OR_RETURN(plan_.rootfs, PlanRootfs(spec, rootfs));
  }
  ASSIGN_OR_RETURN(plan_.sysctls, BuildSysctls(linux_config.sysctl));
  if (spec.hooks) {
    plan_.create_container_hooks = BuildHookPlans(spec.hooks->create_container);
    plan_.start_container_hooks = BuildHookPlans(spec.hooks->start_container);
  }
  plan_.runtime_hooks_sync =
      spec.hooks && !(spec.hooks->prestart.empty() && spec.hooks->create_runtime.empty() &&
                      spec.hooks->create_container.empty() && spec.hooks->start_container.empty());
  ProcessPlanOptions process;
  process.seccomp = linux_config.seccomp ? &*linux_config.seccomp : nullptr;
  process.seccomp_cache_dir = context_.seccomp_cache_dir;
  process.set_groups =
      !(namespaces_.new_user_ns &&
        MappingDeniesSetgroups(linux_config.uid_mappings, linux_config.gid_mappings)) &&
      !(shares_caller_user_ns && SetgroupsDeniedHere());
  process.preserve_fds = options_.preserve_fds;
  if (!options_.no_new_keyring) {
    process.session_keyring = "_ses." + options_.id;
  }
  process.create_cwd = namespaces_.new_mount_ns;
  process.other_user_ns = namespaces_.new_user_ns;
  process.stdio = options_.stdio;
  ASSIGN_OR_RETURN(plan_.process, BuildProcessPlan(*spec.process, process));
  ASSIGN_OR_RETURN(plan_.process.personality, BuildPersonality(linux_config));
  if (plan_.process.terminal && options_.console_socket.empty() && !keep_console_) {
    return Err(Error::Invalid(
        "process.terminal is true: --console-socket is required to receive the terminal"));
  }
  return Ok();
}

LaunchCallbacks CreateJob::Callbacks() {
  LaunchCallbacks callbacks;
  const oci::Spec& spec = *spec_;
  callbacks.on_namespaces_ready = [this, &spec](pid_t intermediate) -> Status {
    if (plan_.new_user_ns) {
      RETURN_IF_ERROR(WriteIdMappings(intermediate, spec.linux_config->uid_mappings,
                                      spec.linux_config->gid_mappings));
    }
    if (cgroups_ && plan_.cgroup_joins.empty()) {
      RETURN_IF_ERROR(cgroups_->AddProcess(intermediate));
    }
    return Ok();
  };
  callbacks.on_init_pid = [this](pid_t init) -> Status {
    created_.record.pid = init;
    created_.record.pid_start_time = ProcessStartTime(init);
    return context_.store.Save(created_.record);
  };
  callbacks.on_runtime_hooks = [this, &spec](pid_t /*init*/) -> Result<HookStates> {
    HookStates states;
    if (!spec.hooks) {
      return states;
    }
    std::string creating = StateJson("creating");
    RETURN_IF_ERROR(RunHooks(spec.hooks->prestart, creating, "prestart"));
    RETURN_IF_ERROR(RunHooks(spec.hooks->create_runtime, creating, "createRuntime"));
    if (!spec.hooks->create_container.empty()) {
      states.create_container = creating;
    }
    if (!spec.hooks->start_container.empty()) {
      states.start_container = StateJson("created");
    }
    return states;
  };
  callbacks.on_console = [this](os::UniqueFd master) -> Status {
    if (!options_.console_socket.empty()) {
      return SendFdToSocket(options_.console_socket, master.get(), "/dev/ptmx");
    }
    created_.console = std::move(master);
    return Ok();
  };
  callbacks.on_listener = [this, &spec](os::UniqueFd listener) -> Status {
    const oci::Seccomp& profile = *spec.linux_config->seccomp;
    if (profile.listener_path.empty()) {
      return Err(
          Error::Invalid("linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"));
    }
    std::string message = fmt::format(
        R"({{"ociVersion":"1.2.0","fds":["seccompFd"],"pid":{},"metadata":{},"state":{}}})",
        created_.record.pid, JsonQuote(profile.listener_metadata), StateJson("creating"));
    return SendFdToSocket(profile.listener_path, listener.get(), message);
  };
  return callbacks;
}

void CreateJob::Undo() {
  if (created_.record.pid > 0) {
    ::kill(created_.record.pid, SIGKILL);
  }
  if (cgroups_) {
    if (auto st = cgroups_->Destroy(); !st) {
      log::Warning("removing cgroups: {}", st.error().ToString());
    }
  }
  if (dir_made_) {
    (void)context_.store.Remove(options_.id);
  }
}

Result<Created> CreateJob::Run() {
  RETURN_IF_ERROR(context_.store.CreateDir(options_.id));
  dir_made_ = true;
  ScopeExit undo([this] { Undo(); });
  RETURN_IF_ERROR(LoadBundle());
  ASSIGN_OR_RETURN(mountinfo_, os::ReadFile("/proc/self/mountinfo"));
  RETURN_IF_ERROR(BuildPlan());
  RETURN_IF_ERROR(
      os::ReplaceFile(context_.store.ConfigPath(options_.id), oci::SpecToJson(*spec_), 0600));
  RETURN_IF_ERROR(PrepareCgroups());
  RETURN_IF_ERROR(context_.store.Save(created_.record));
  std::string fifo = context_.store.FifoPath(options_.id);
  if (::mkfifo(fifo.c_str(), 0622) != 0) {
    return Err(Error::FromErrno("mkfifo", fifo));
  }
  // 0622 whatever the umask: init may run as any uid (a mapped root, the process's user).
  if (::chmod(fifo.c_str(), 0622) != 0) {
    return Err(Error::FromErrno("chmod", fifo));
  }
  fifo_.Reset(::open(fifo.c_str(), O_PATH | O_CLOEXEC));
  if (!fifo_) {
    return Err(Error::FromErrno("open", fifo));
  }
  plan_.exec_fifo_fd = fifo_.get();
  ASSIGN_OR_RETURN(auto cgroup_files, PlanCgroupSelfJoin(cgroups_.get(), plan_));
  // What on_namespaces_ready does; nothing to do, no round trip.
  plan_.namespaces_sync = plan_.new_user_ns || (cgroups_ && plan_.cgroup_joins.empty());
  // The record with init's pid was saved as soon as it was known (on_init_pid).
  auto launched = Launch(plan_, Callbacks(), LaunchUntil::kCreated);
  cgroup_files.clear();
  plan_.cgroup_joins.clear();
  if (!launched) {
    created_.record.pid = 0;  // Launch killed and reaped it; the pid may be reused already
    return Err(std::move(launched).error());
  }
  pid_t init = *launched;
  if (!options_.pid_file.empty()) {
    RETURN_IF_ERROR(WritePidFile(options_.pid_file, init));
  }
  undo.Dismiss();
  return std::move(created_);
}

}  // namespace

Result<Created> CreateContainer(const RuntimeContext& context, const CreateOptions& options,
                                bool keep_console) {
  CreateJob job(context, options, keep_console);
  auto created = job.Run();
  if (!created) {
    return Err(std::move(created).error().AddContext("creating container " + options.id));
  }
  return created;
}

Status WritePidFile(const std::string& path, pid_t pid) {
  return os::ReplaceFile(path, std::to_string(pid), 0644);
}

}  // namespace comet::runtime
