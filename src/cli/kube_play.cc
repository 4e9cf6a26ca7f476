// RunPlay; see kube_play.h.
#include "cli/kube_play.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/pod_access.h"
#include "cli/pod_commands.h"
#include "cli/pod_devices.h"
#include "cli/pod_net_flags.h"
#include "cli/pod_run.h"
#include "cli/pod_run_flags.h"
#include "kube/host_path.h"
#include "kube/node_info.h"
#include "kube/to_comet.h"
#include "kube/yaml_parse.h"
#include "os/file.h"
#include "pod/pod_store.h"

namespace comet::cli {
namespace {

Status Print(std::string_view text) {
  return os::WriteAll(STDOUT_FILENO, text);
}

void Warn(const std::string& message) {
  (void)os::WriteAll(STDERR_FILENO, fmt::format("comet: play: warning: {}\n", message));
}

// The node as the downward API shows it: its host name and address (kube::LocalNodeInfo) and its
// cpus; its memory is read by the converter.
kube::NodeInfo ThisNode() {
  kube::NodeInfo node = kube::LocalNodeInfo();
  node.cpu_millis = static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN)) * 1000;
  return node;
}

// This process's oom_score_adj, and whether it may go lower: CAP_SYS_RESOURCE (bit 24 of
// CapEff) in the initial user namespace. The runtime clamps a lower score to the current one
// (runtime/process_plan.cc); play says so up front, per container.
struct OomLimits {
  int current = 0;
  bool can_lower = true;
};

OomLimits ReadOomLimits() {
  OomLimits limits;
  if (auto text = os::ReadFileLimited("/proc/self/oom_score_adj", 64); text) {
    limits.current = static_cast<int>(ParseInt(TrimSpace(*text)).value_or(0));
  }
  auto status = os::ReadFileLimited("/proc/self/status", 1 << 16);
  auto uid_map = os::ReadFileLimited("/proc/self/uid_map", 4096);
  const bool initial_ns =
      uid_map && TrimSpace(*uid_map).find("4294967295") != std::string_view::npos;
  limits.can_lower = false;
  if (status && initial_ns) {
    for (const std::string& line : Split(*status, '\n')) {
      if (line.rfind("CapEff:", 0) == 0) {
        const uint64_t caps =
            std::strtoull(std::string(TrimSpace(line.substr(7))).c_str(), nullptr, 16);
        limits.can_lower = ((caps >> 24) & 1) != 0;  // CAP_SYS_RESOURCE
      }
    }
  }
  return limits;
}

std::string KubeName(const kube::Pod& pod) {
  return pod.metadata.namespace_ + "/" + pod.metadata.name;
}

// Live or exited pods made from the Kubernetes pod `pod` (same namespace and name).
Result<std::vector<pod::PodEntry>> PodsNamed(const CometGlobalFlags& global,
                                             const kube::Pod& wanted) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(global));
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, store.List());
  std::vector<pod::PodEntry> found;
  for (pod::PodEntry& entry : entries) {
    if (entry.phase_dir == "garbage" || entry.phase_dir == "exited-garbage") {
      continue;
    }
    auto manifest = ReadPodManifest(store, entry);
    if (!manifest) {
      continue;
    }
    const auto& a = manifest->annotations;
    auto name = a.find(kube::kPodNameAnnotation);
    auto ns = a.find(kube::kPodNamespaceAnnotation);
    if (name != a.end() && ns != a.end() && name->second == wanted.metadata.name &&
        ns->second == wanted.metadata.namespace_) {
      found.push_back(std::move(entry));
    }
  }
  return found;
}

// Stops and removes the pods of `pod`'s name; prints each.
Status TakeDown(const CometInvocation& in, const kube::Pod& pod) {
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, PodsNamed(in.global, pod));
  for (const pod::PodEntry& entry : entries) {
    RETURN_IF_ERROR_CTX(StopAndRemovePod(in.global, entry.uuid), "pod " + KubeName(pod));
    RETURN_IF_ERROR(Print(in.play.quiet
                              ? entry.uuid + "\n"
                              : fmt::format("Removed pod {} {}\n", KubeName(pod), entry.uuid)));
  }
  return Ok();
}

std::optional<PullPolicy> PullPolicyOf(const std::string& kubernetes, const std::string& flag) {
  const std::string& name = flag.empty() ? kubernetes : flag;
  if (name == "Always" || name == "update") {
    return PullPolicy::kUpdate;
  }
  if (name == "Never" || name == "never") {
    return PullPolicy::kNever;
  }
  if (name == "IfNotPresent" || name == "new") {
    return PullPolicy::kNew;
  }
  return std::nullopt;
}

// A container's device resources (limits["nvidia.com/gpu"]: 2, and other vendor.tld/name
// counts) as CDI device names, picked from the registry of `spec_dirs`.
Result<AppFlags> ToAppFlags(const kube::ContainerDraft& draft, const PlayFlags& flags,
                            const std::vector<std::string>& spec_dirs) {
  AppFlags app;
  app.app = draft.app;
  app.command = draft.command;
  if (draft.args) {
    app.args_given = true;
    app.args = *draft.args;
  }
  app.environment = draft.env;
  app.user = draft.user;
  app.group = draft.group;
  app.working_dir = draft.working_dir;
  app.pull_policy = PullPolicyOf(draft.pull_policy, flags.pull_policy);
  if (draft.run_as_non_root) {
    app.app.annotations[pod::kRunAsNonRootAnnotation] = "true";
  }
  for (const kube::DeviceRequest& request : draft.devices) {
    if (request.count <= 0) {
      continue;
    }
    auto names = PickCdiDevices(request.kind, static_cast<size_t>(request.count), spec_dirs);
    if (!names) {
      return Err(std::move(names).error().AddContext(
          fmt::format("container {}: resources.limits[{:?}]", draft.app.name, request.kind)));
    }
    app.devices.insert(app.devices.end(), names->begin(), names->end());
  }
  return app;
}

// The options stage0 gets for one pod: the draft's pod and apps, the seed files, the flags.
// The container -i/-t attach to: kubectl's default-container annotation, else the first of
// spec.containers (not a sidecar, which the draft places before them).
std::string AttachedContainer(const kube::Pod& pod) {
  const auto& annotations = pod.metadata.annotations;
  if (auto chosen = annotations.find("kubectl.kubernetes.io/default-container");
      chosen != annotations.end()) {
    return chosen->second;
  }
  return pod.spec.containers.empty() ? std::string() : pod.spec.containers.front().name;
}

Result<PodRunOptions> PodOptions(const kube::PodDraft& draft, const PlayFlags& flags,
                                 const std::vector<std::string>& spec_dirs,
                                 const std::string& attached) {
  PodRunOptions options;
  options.command = flags.prepare ? "prepare" : "run";
  options.pod = draft.pod;
  options.detach = !flags.attach;
  options.rm = flags.rm;
  options.quiet = flags.quiet;
  options.print_uuid = false;
  for (const std::string& annotation : flags.annotations) {
    const size_t eq = annotation.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Err(Error::Invalid(fmt::format("--annotation {:?}: expected KEY=VALUE", annotation)));
    }
    options.pod.annotations[annotation.substr(0, eq)] = annotation.substr(eq + 1);
  }
  if (!flags.net.empty() && draft.pod.net != pod::NetMode::kHost) {
    RETURN_IF_ERROR_CTX(ApplyNetFlag(flags.net, options.pod), "--net");
  }
  for (const kube::ContainerDraft& container : draft.containers) {
    ASSIGN_OR_RETURN(AppFlags app, ToAppFlags(container, flags, spec_dirs));
    options.apps.push_back(std::move(app));
  }
  // -i/-t: the pod's main container (AttachedContainer), as kubectl attach picks it.
  auto first = std::find_if(options.apps.begin(), options.apps.end(),
                            [&](const AppFlags& app) { return app.app.name == attached; });
  if (first != options.apps.end()) {
    first->app.stdin = first->app.stdin || flags.interactive;
    first->app.tty = first->app.tty || flags.tty;
    options.interactive = first->app.stdin;
    options.tty = first->app.tty;
  }
  for (const auto& [volume, files] : draft.seeds) {
    for (const kube::SeedFile& file : files) {
      options.pod_files.push_back(
          PodFile{fmt::format("seed/{}/{}", volume, file.path), file.content, file.mode});
    }
  }
  return options;
}

// One Kubernetes pod converted and checked, not yet started: every pod of the YAML is planned
// before anything is taken down or started, so that a bad document changes nothing.
struct PlannedPod {
  const kube::Pod* pod = nullptr;
  kube::PodDraft draft;
  PodRunOptions options;
};

Result<PlannedPod> PlanPod(const CometInvocation& in, const kube::Pod& pod,
                           const kube::Objects& objects, const kube::NodeInfo& node) {
  PlannedPod plan;
  plan.pod = &pod;
  auto draft = kube::ToPodDraft(pod, objects, node);
  if (!draft) {
    return Err(std::move(draft).error().AddContext("pod " + KubeName(pod)));
  }
  plan.draft = std::move(*draft);
  for (const std::string& warning : plan.draft.warnings) {
    Warn(fmt::format("pod {}: {}", KubeName(pod), warning));
  }
  auto options = PodOptions(plan.draft, in.play, in.global.cdi_spec_dirs, AttachedContainer(pod));
  if (!options) {
    return Err(std::move(options).error().AddContext("pod " + KubeName(pod)));
  }
  plan.options = std::move(*options);
  const OomLimits oom = ReadOomLimits();
  for (const kube::ContainerDraft& container : plan.draft.containers) {
    const std::optional<int>& score = container.app.resources.oom_score_adj;
    if (score && *score < oom.current && !oom.can_lower) {
      Warn(
          fmt::format("pod {}: container {}: oom_score_adj {} (QoS {}) is below comet's own {} "
                      "and lowering it needs CAP_SYS_RESOURCE, which comet lacks here; the "
                      "container gets {}",
                      KubeName(pod), container.app.name, *score, kube::QosClassName(plan.draft.qos),
                      oom.current, oom.current));
    }
  }
  return plan;
}

// Starts (or prepares) one planned pod: host paths, then stage0. Host paths created for a pod
// that could not be made are removed again.
Result<int> PlayPod(const CometInvocation& in, const PlannedPod& plan) {
  const std::string name = KubeName(*plan.pod);
  std::vector<std::string> created;
  for (const kube::HostPathRequirement& host_path : plan.draft.host_paths) {
    Status prepared = kube::PrepareHostPath(host_path, &created);
    if (!prepared) {
      kube::UndoHostPaths(created);
      return Err(std::move(prepared).error().AddContext("pod " + name));
    }
  }
  std::string uuid;
  Result<int> made = MakePod(in.global, plan.options, &uuid);
  if (!made) {
    kube::UndoHostPaths(created);
    return Err(std::move(made).error().AddContext("pod " + name));
  }
  std::string names;
  for (const AppFlags& app : plan.options.apps) {
    names += (names.empty() ? "" : ",") + app.app.name;
  }
  RETURN_IF_ERROR(Print(in.play.quiet ? uuid + "\n"
                                      : fmt::format("Pod {} {} containers={} qos={}\n", name, uuid,
                                                    names, kube::QosClassName(plan.draft.qos))));
  return *made;
}

}  // namespace

Result<int> RunPlay(const CometInvocation& in) {
  const PlayFlags& flags = in.play;
  const bool from_stdin =
      std::find(flags.files.begin(), flags.files.end(), "-") != flags.files.end();
  if (from_stdin && flags.interactive && flags.attach) {
    return Err(Error::Invalid("-i with --attach needs the terminal's stdin: give a file, not -"));
  }
  std::vector<std::string> warnings;
  ASSIGN_OR_RETURN(kube::Objects objects, kube::LoadKubeFiles(flags.files, &warnings));
  for (const std::string& warning : warnings) {
    Warn(warning);
  }
  if (!flags.only.empty()) {
    std::vector<kube::Pod> chosen;
    for (const std::string& wanted : flags.only) {
      const std::string full = wanted.find('/') == std::string::npos ? "default/" + wanted : wanted;
      auto found = std::find_if(objects.pods.begin(), objects.pods.end(),
                                [&](const kube::Pod& pod) { return KubeName(pod) == full; });
      if (found == objects.pods.end()) {
        return Err(Error(ENOENT, fmt::format("--only {}: no such pod in the YAML", full)));
      }
      chosen.push_back(*found);
    }
    objects.pods = std::move(chosen);
  }
  if (objects.pods.empty()) {
    return Err(Error::Invalid("no Pod, nor a workload with a pod template, in the YAML"));
  }
  if (flags.prepare && flags.attach) {
    return Err(Error::Invalid("--prepare and --attach exclude each other"));
  }
  if (flags.down) {
    for (const kube::Pod& pod : objects.pods) {
      RETURN_IF_ERROR(TakeDown(in, pod));
    }
    return 0;
  }
  if (flags.attach && objects.pods.size() != 1) {
    return Err(Error::Invalid(fmt::format(
        "--attach runs one pod in the foreground; the YAML has {}", objects.pods.size())));
  }
  const kube::NodeInfo node = ThisNode();
  std::vector<PlannedPod> plans;
  for (const kube::Pod& pod : objects.pods) {
    ASSIGN_OR_RETURN(PlannedPod plan, PlanPod(in, pod, objects, node));
    plans.push_back(std::move(plan));
  }
  for (const kube::Pod& pod : objects.pods) {
    if (flags.replace) {
      RETURN_IF_ERROR(TakeDown(in, pod));
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<pod::PodEntry> existing, PodsNamed(in.global, pod));
    auto live = std::find_if(existing.begin(), existing.end(), [](const pod::PodEntry& e) {
      return e.state == pod::PodState::kRunning || e.state == pod::PodState::kPrepared;
    });
    if (live != existing.end()) {
      return Err(Error(EEXIST, fmt::format("pod {} exists (comet pod {}): give --replace, or "
                                           "take it down with --down",
                                           KubeName(pod), live->uuid)));
    }
  }
  int exit_code = 0;
  for (const PlannedPod& plan : plans) {
    ASSIGN_OR_RETURN(int code, PlayPod(in, plan));
    exit_code = std::max(exit_code, code);
  }
  return exit_code;
}

}  // namespace comet::cli
