// BuildAppSpec; see app_spec.h.
#include "supervisor/app_spec.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "image/snapshot.h"
#include "oci/default_seccomp.h"
#include "oci/default_spec.h"
#include "oci/names.h"
#include "os/file.h"
#include "pod/pod_dir.h"
#include "supervisor/app_devices.h"
#include "supervisor/pod_setup.h"

namespace comet::supervisor {
namespace {

constexpr int64_t kCpuPeriodMicros = 100000;

oci::Mount BindMount(std::string source, std::string destination, bool read_only,
                     bool recursive = false) {
  oci::Mount mount;
  mount.destination = std::move(destination);
  mount.type = "bind";
  mount.source = std::move(source);
  mount.options = {recursive ? "rbind" : "bind", "nosuid", "nodev"};
  if (read_only) {
    mount.options.emplace_back("ro");
  }
  return mount;
}

Result<std::vector<oci::Mount>> AppMounts(const AppSpecInput& input) {
  const pod::PodManifest& manifest = *input.manifest;
  std::vector<oci::Mount> mounts = oci::DefaultSpec(manifest.rootless).mounts;
  if (manifest.host_ipc) {
    // The host's ipc namespace comes with the host's POSIX shared memory (docker --ipc=host).
    for (oci::Mount& mount : mounts) {
      if (mount.destination == "/dev/shm") {
        mount = BindMount("/dev/shm", "/dev/shm", false);
      }
    }
  }
  mounts.push_back(BindMount(PodEtcFile(input.pod_dir, "hosts"), "/etc/hosts", false));
  mounts.push_back(BindMount(PodEtcFile(input.pod_dir, "hostname"), "/etc/hostname", false));
  if (input.resolv_conf) {
    mounts.push_back(
        BindMount(PodEtcFile(input.pod_dir, "resolv.conf"), "/etc/resolv.conf", false));
  }
  for (size_t i = 0; i < input.app->mounts.size(); ++i) {
    const pod::MountPoint& point = input.app->mounts[i];
    auto volume = std::find_if(manifest.volumes.begin(), manifest.volumes.end(),
                               [&](const pod::Volume& v) { return v.name == point.volume; });
    if (volume == manifest.volumes.end()) {
      return Err(Error::Invalid(fmt::format(R"(apps "{}": mount {}: no volume named "{}")",
                                            input.app->name, point.target, point.volume)));
    }
    bool read_only = point.read_only || volume->read_only;
    if (!point.sub_path.empty()) {
      if (i >= input.sub_path_sources.size() || input.sub_path_sources[i].empty()) {
        return Err(Error::Invalid(fmt::format(R"(apps "{}": mount {}: subPath {} was not staged)",
                                              input.app->name, point.target, point.sub_path)));
      }
      mounts.push_back(BindMount(input.sub_path_sources[i], point.target, read_only));
    } else if (volume->kind == pod::VolumeKind::kHost) {
      mounts.push_back(BindMount(volume->source, point.target, read_only, volume->recursive));
    } else {
      mounts.push_back(
          BindMount(pod::VolumeDir(input.pod_dir, volume->name), point.target, read_only));
    }
  }
  return mounts;
}

std::vector<oci::Namespace> AppNamespaces(const AppSpecInput& input) {
  const pod::PodManifest& manifest = *input.manifest;
  auto ns_path = [](pid_t pid, const char* name) {
    return fmt::format("/proc/{}/ns/{}", pid, name);
  };
  std::vector<oci::Namespace> namespaces;
  if (manifest.host_pid) {
    // No pid entry: the app stays in the supervisor's, which is the host's.
  } else if (manifest.share_pid && input.pid_namespace_holder > 0) {
    namespaces.push_back({"pid", ns_path(input.pid_namespace_holder, "pid")});
  } else {
    namespaces.push_back({"pid", ""});
  }
  namespaces.push_back({"mount", ""});
  // Host networking: the supervisor stayed in the host's network namespace, and so do the apps.
  // Otherwise the supervisor is in the pod's (its own, the pinned one of its networks, or the
  // one --net=ns:PATH named): the apps join it there.
  if (manifest.net != pod::NetMode::kHost) {
    namespaces.push_back({"network", ns_path(input.supervisor_pid, "net")});
  }
  namespaces.push_back({"ipc", ns_path(input.supervisor_pid, "ipc")});
  namespaces.push_back({"uts", ns_path(input.supervisor_pid, "uts")});
  namespaces.push_back({"cgroup", ""});
  return namespaces;
}

std::optional<oci::Resources> AppResources(const pod::App& app, bool rootless) {
  const pod::Resources& limits = app.resources;
  oci::Resources resources;
  if (!rootless) {
    // Deny every device but the runtime's defaults (runc's and podman's behaviour).
    resources.devices.push_back(
        {.allow = false, .type = {}, .major = {}, .minor = {}, .access = "rwm"});
  }
  if (limits.cpu_millis > 0 || limits.cpu_shares > 0) {
    oci::CpuResources cpu;
    if (limits.cpu_millis > 0) {
      cpu.period = kCpuPeriodMicros;
      cpu.quota = limits.cpu_millis * kCpuPeriodMicros / 1000;
    }
    if (limits.cpu_shares > 0) {
      cpu.shares = limits.cpu_shares;
    }
    resources.cpu = cpu;
  }
  if (limits.memory_bytes > 0) {
    oci::MemoryResources memory;
    memory.limit = limits.memory_bytes;
    resources.memory = memory;
  }
  if (limits.pids > 0) {
    resources.pids = oci::PidsResources{limits.pids};
  }
  if (rootless && !resources.cpu && !resources.memory && !resources.pids) {
    return std::nullopt;
  }
  return resources;
}

bool HasEnv(const std::vector<std::string>& env, std::string_view key) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& entry) {
    return entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
           entry[key.size()] == '=';
  });
}

Result<oci::Process> AppProcess(const AppSpecInput& input) {
  const pod::App& app = *input.app;
  oci::Process process;
  process.terminal = app.tty;
  process.args = app.exec;
  process.env = app.env;
  if (!HasEnv(process.env, "PATH")) {
    process.env.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  if (!HasEnv(process.env, "HOSTNAME")) {
    process.env.push_back("HOSTNAME=" + PodHostname(*input.manifest));
  }
  if (!HasEnv(process.env, "HOME")) {
    process.env.push_back("HOME=" + (input.user.home.empty() ? "/" : input.user.home));
  }
  if (app.tty && !HasEnv(process.env, "TERM")) {
    process.env.emplace_back("TERM=xterm");
  }
  process.cwd = app.working_dir.empty() ? "/" : app.working_dir;
  process.user.uid = input.user.uid;
  process.user.gid = input.user.gid;
  process.user.additional_gids = input.user.additional_gids;
  ASSIGN_OR_RETURN(std::vector<std::string> caps, AppCapabilities(app));
  process.capabilities = oci::Capabilities{
      .bounding = caps, .effective = caps, .inheritable = {}, .permitted = caps, .ambient = {}};
  process.no_new_privileges = true;
  process.oom_score_adj = app.resources.oom_score_adj;
  return process;
}

// The default profile for the app's capabilities, unless the pod opted out (rkt's
// --insecure-options=seccomp).
Result<std::optional<oci::Seccomp>> AppSeccomp(const pod::PodManifest& manifest,
                                               const std::vector<std::string>& caps) {
  auto annotation = manifest.annotations.find(pod::kSeccompAnnotation);
  if (annotation != manifest.annotations.end() && annotation->second != "default") {
    if (annotation->second != pod::kSeccompUnconfined) {
      return Err(Error::Invalid(fmt::format(R"(annotation "{}": unknown value "{}" (expected {}))",
                                            pod::kSeccompAnnotation, annotation->second,
                                            pod::kSeccompUnconfined)));
    }
    return std::nullopt;
  }
  return oci::DefaultSeccompProfile(caps);
}

}  // namespace

const std::vector<std::string>& DefaultCapabilities() {
  static const std::vector<std::string> kDefaultCaps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
      "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
      "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
  return kDefaultCaps;
}

Result<std::string> NormalizeCapability(std::string_view name) {
  std::string upper;
  upper.reserve(name.size() + 4);
  for (char c : name) {
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (upper.rfind("CAP_", 0) != 0) {
    upper.insert(0, "CAP_");
  }
  if (oci::CapabilityNumber(upper) < 0) {
    return Err(Error::Invalid(fmt::format("unknown capability \"{}\"", name)));
  }
  return upper;
}

Result<std::vector<std::string>> AppCapabilities(const pod::App& app) {
  std::vector<std::string> caps;
  if (!app.caps_retain.empty()) {
    for (const std::string& name : app.caps_retain) {
      ASSIGN_OR_RETURN(std::string cap, NormalizeCapability(name));
      if (std::find(caps.begin(), caps.end(), cap) == caps.end()) {
        caps.push_back(std::move(cap));
      }
    }
    return caps;
  }
  std::vector<std::string> removed;
  for (const std::string& name : app.caps_remove) {
    ASSIGN_OR_RETURN(std::string cap, NormalizeCapability(name));
    removed.push_back(std::move(cap));
  }
  for (const std::string& cap : DefaultCapabilities()) {
    if (std::find(removed.begin(), removed.end(), cap) == removed.end()) {
      caps.push_back(cap);
    }
  }
  return caps;
}

Result<oci::Spec> BuildAppSpec(const AppSpecInput& input) {
  const pod::PodManifest& manifest = *input.manifest;
  const pod::App& app = *input.app;
  oci::Spec defaults = oci::DefaultSpec(manifest.rootless);
  oci::Spec spec;
  spec.oci_version = defaults.oci_version;
  ASSIGN_OR_RETURN(spec.process, AppProcess(input));
  spec.root.path = image::SnapshotRootfs(pod::AppSnapshotDir(input.pod_dir, app.name));
  spec.root.readonly = app.read_only_rootfs;
  ASSIGN_OR_RETURN(spec.mounts, AppMounts(input));
  oci::Linux linux_config;
  linux_config.namespaces = AppNamespaces(input);
  linux_config.cgroups_path = pod::AppCgroupPath(manifest.uuid, app.name);
  linux_config.resources = AppResources(app, manifest.rootless);
  linux_config.masked_paths = defaults.linux_config->masked_paths;
  linux_config.readonly_paths = defaults.linux_config->readonly_paths;
  ASSIGN_OR_RETURN(const std::vector<std::string> caps, AppCapabilities(app));
  ASSIGN_OR_RETURN(linux_config.seccomp, AppSeccomp(manifest, caps));
  spec.linux_config = std::move(linux_config);
  RETURN_IF_ERROR(AddAppDevices(app, manifest.rootless, spec));
  spec.annotations = app.annotations;
  spec.annotations["comet.dev/pod-uuid"] = manifest.uuid;
  spec.annotations["comet.dev/app-name"] = app.name;
  spec.annotations["comet.dev/image-id"] = app.image_id;
  return spec;
}

}  // namespace comet::supervisor
