// ComputePodStatus and GroupByKubePod (see pod_status.h). The phase follows the kubelet's
// getPhase (pkg/kubelet/kubelet_pods.go) on the containers' states computed here.
#include "node/pod_status.h"

#include <algorithm>
#include <chrono>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "kube/quantity.h"
#include "kube/to_comet.h"
#include "pod/app_annotations.h"

namespace comet::node {
namespace {

using Annotations = std::map<std::string, std::string>;

// The exit code the kubelet reports for a container that could not start, and for one whose
// fate is unknown because the pod ended under it (its supervisor was killed).
constexpr int kStartErrorExitCode = 128;
constexpr int kUnknownExitCode = 137;

Annotations ToMap(const google::protobuf::RepeatedPtrField<v1alpha::KeyValue>& values) {
  Annotations out;
  for (const v1alpha::KeyValue& kv : values) {
    out[kv.key()] = kv.value();
  }
  return out;
}

std::string Get(const Annotations& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? std::string() : it->second;
}

int64_t TimeNs(const std::string& rfc3339) {
  if (rfc3339.empty()) {
    return 0;
  }
  auto when = ParseRfc3339(rfc3339);
  if (!when) {
    return 0;
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(when->time_since_epoch()).count();
}

bool IsCompleted(const ContainerState& state) {
  return state.kind == ContainerState::Kind::kTerminated && state.exit_code == 0;
}

// The Terminated state of the app's last run (what its status file's last attempt says).
ContainerState LastRun(const v1alpha::App& app, const Annotations& notes) {
  ContainerState out;
  out.kind = ContainerState::Kind::kTerminated;
  out.reason = Get(notes, pod::kAppReasonAnnotation);
  out.message = Get(notes, pod::kAppMessageAnnotation);
  out.exit_code = app.exit_code();
  if (out.reason == "StartError" && out.exit_code <= 0) {
    out.exit_code = kStartErrorExitCode;
  }
  if (out.reason.empty()) {
    out.reason = out.exit_code == 0 ? "Completed" : "Error";
  }
  out.started_at_ns = TimeNs(Get(notes, pod::kAppStartedAtAnnotation));
  out.finished_at_ns = TimeNs(Get(notes, pod::kAppFinishedAtAnnotation));
  return out;
}

// The run before the last one, when the status file still had it.
std::optional<ContainerState> PreviousRun(const Annotations& notes) {
  auto code = ParseInt(Get(notes, pod::kAppPreviousExitCodeAnnotation));
  if (!code) {
    return std::nullopt;
  }
  ContainerState out;
  out.kind = ContainerState::Kind::kTerminated;
  out.exit_code = static_cast<int>(*code);
  out.reason = out.exit_code == 0 ? "Completed" : "Error";
  out.started_at_ns = TimeNs(Get(notes, pod::kAppPreviousStartedAtAnnotation));
  out.finished_at_ns = TimeNs(Get(notes, pod::kAppPreviousFinishedAtAnnotation));
  return out;
}

// The app's current state and, when the status file tells it, its last state. `inits_done`:
// every init container of the pod completed (regular containers wait for that).
std::pair<ContainerState, std::optional<ContainerState>> StatesOf(const v1alpha::App& app,
                                                                  const Annotations& notes,
                                                                  v1alpha::PodState pod_state,
                                                                  bool init, bool inits_done) {
  const std::string word = Get(notes, pod::kAppStateAnnotation);
  const bool live = pod_state == v1alpha::POD_STATE_RUNNING;
  ContainerState state;
  std::optional<ContainerState> last = PreviousRun(notes);
  if (word.empty() || word == "created") {
    state.reason = init || !inits_done ? "PodInitializing" : "ContainerCreating";
  } else if (word == "running" && live) {
    state.kind = ContainerState::Kind::kRunning;
    state.started_at_ns = TimeNs(Get(notes, pod::kAppStartedAtAnnotation));
  } else if (word == "backoff" && live) {
    state.reason = "CrashLoopBackOff";
    state.message = Get(notes, pod::kAppMessageAnnotation);
    last = LastRun(app, notes);
  } else if (word == "running") {
    // The pod ended while the app ran (its supervisor was killed): nobody saw how it ended.
    state.kind = ContainerState::Kind::kTerminated;
    state.reason = "ContainerStatusUnknown";
    state.message = "The container could not be located when the pod was terminated";
    state.exit_code = kUnknownExitCode;
    state.started_at_ns = TimeNs(Get(notes, pod::kAppStartedAtAnnotation));
  } else {  // exited, removed, or backoff in a pod that ended
    state = LastRun(app, notes);
  }
  return {std::move(state), std::move(last)};
}

struct Resources {
  int64_t cpu_limit = 0;
  int64_t cpu_request = 0;
  int64_t memory_limit = 0;
  int64_t memory_request = 0;
};

// value[key] as a Kubernetes quantity (cpu: millis, else bytes); 0 when absent or bad.
int64_t Quantity(const nlohmann::json& value, const char* key, bool cpu) {
  if (!value.contains(key) || !value[key].is_string()) {
    return 0;
  }
  const std::string text = value[key].get<std::string>();
  auto parsed = cpu ? kube::ParseCpuMillis(text) : kube::ParseQuantityBytes(text);
  return parsed ? *parsed : 0;
}

// An appc app's isolators: resource/cpu and resource/memory, {request, limit}.
Resources IsolatorResources(const nlohmann::json& app) {
  Resources out;
  if (!app.is_object() || !app.contains("app") || !app["app"].is_object() ||
      !app["app"].contains("isolators") || !app["app"]["isolators"].is_array()) {
    return out;
  }
  for (const nlohmann::json& isolator : app["app"]["isolators"]) {
    if (!isolator.is_object() || !isolator.contains("value") || !isolator["value"].is_object()) {
      continue;
    }
    const std::string name = isolator.value("name", "");
    const nlohmann::json& value = isolator["value"];
    if (name == "resource/cpu") {
      out.cpu_limit = Quantity(value, "limit", true);
      out.cpu_request = Quantity(value, "request", true);
    } else if (name == "resource/memory") {
      out.memory_limit = Quantity(value, "limit", false);
      out.memory_request = Quantity(value, "request", false);
    }
  }
  return out;
}

// The resources of each app from the appc PodManifest (the api-service's Pod.manifest), whose
// apps[i] is Pod.apps[i].
std::vector<Resources> ResourcesOf(const std::string& manifest, size_t apps) {
  std::vector<Resources> out(apps);
  const nlohmann::json appc = nlohmann::json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (!appc.is_object() || !appc.contains("apps") || !appc["apps"].is_array()) {
    return out;
  }
  const nlohmann::json& list = appc["apps"];
  for (size_t i = 0; i < std::min(apps, list.size()); ++i) {
    out[i] = IsolatorResources(list[i]);
  }
  return out;
}

const v1alpha::App* FindApp(const v1alpha::Pod& pod, const std::string& name) {
  for (const v1alpha::App& app : pod.apps()) {
    if (app.name() == name) {
      return &app;
    }
  }
  return nullptr;
}

std::string ImageOf(const v1alpha::App& app) {
  const v1alpha::Image& image = app.image();
  return image.version().empty() ? image.name() : image.name() + ":" + image.version();
}

bool InitsDone(const v1alpha::Pod& pod) {
  return std::ranges::all_of(pod.apps(), [](const v1alpha::App& app) {
    const Annotations notes = ToMap(app.annotations());
    return Get(notes, pod::kAppInitAnnotation) != "true" ||
           (Get(notes, pod::kAppStateAnnotation) == "exited" &&
            Get(notes, pod::kAppReasonAnnotation) == "Completed");
  });
}

// The kubelet's getPhase over the containers computed from the newest attempt.
PodPhase PhaseOf(v1alpha::PodState pod_state, const KubePodStatus& pod,
                 const std::string& restart_policy) {
  switch (pod_state) {
    case v1alpha::POD_STATE_EMBRYO:
    case v1alpha::POD_STATE_PREPARING:
    case v1alpha::POD_STATE_PREPARED:
      return PodPhase::kPending;
    case v1alpha::POD_STATE_ABORTED_PREPARE:
      return PodPhase::kFailed;
    case v1alpha::POD_STATE_RUNNING:
      break;
    case v1alpha::POD_STATE_EXITED:
    case v1alpha::POD_STATE_DELETING:
    case v1alpha::POD_STATE_GARBAGE: {
      if (restart_policy == "Always") {
        return PodPhase::kRunning;  // the agent starts it again
      }
      const bool all_ok =
          std::ranges::all_of(pod.init_containers,
                              [](const KubeContainerStatus& c) { return IsCompleted(c.state); }) &&
          std::ranges::all_of(pod.containers,
                              [](const KubeContainerStatus& c) { return IsCompleted(c.state); });
      return all_ok ? PodPhase::kSucceeded : PodPhase::kFailed;
    }
    default:
      return PodPhase::kUnknown;
  }
  for (const KubeContainerStatus& init : pod.init_containers) {
    if (!IsCompleted(init.state)) {
      return PodPhase::kPending;
    }
  }
  int running = 0;
  int waiting = 0;
  int stopped = 0;
  int succeeded = 0;
  for (const KubeContainerStatus& container : pod.containers) {
    switch (container.state.kind) {
      case ContainerState::Kind::kRunning:
        ++running;
        break;
      case ContainerState::Kind::kTerminated:
        ++stopped;
        succeeded += container.state.exit_code == 0 ? 1 : 0;
        break;
      case ContainerState::Kind::kWaiting:
        ++(container.last_state ? stopped : waiting);
        break;
    }
  }
  if (waiting > 0) {
    return PodPhase::kPending;
  }
  if (running > 0) {
    return PodPhase::kRunning;
  }
  if (stopped > 0) {
    if (restart_policy == "Always") {
      return PodPhase::kRunning;
    }
    if (stopped == succeeded) {
      return PodPhase::kSucceeded;
    }
    // A running comet pod with failed apps and no policy given: its supervisor restarts them
    // (OnFailure) or is about to end the pod.
    return restart_policy == "Never" ? PodPhase::kFailed : PodPhase::kRunning;
  }
  return PodPhase::kPending;
}

std::vector<PodCondition> ConditionsOf(const KubePodStatus& pod) {
  const bool initialized = std::ranges::all_of(
      pod.init_containers, [](const KubeContainerStatus& c) { return IsCompleted(c.state); });
  const bool containers_ready =
      !pod.containers.empty() &&
      std::ranges::all_of(pod.containers, [](const KubeContainerStatus& c) { return c.ready; });
  return {{"Initialized", initialized},
          {"Ready", containers_ready},
          {"ContainersReady", containers_ready},
          {"PodScheduled", true}};
}

bool NewerThan(const v1alpha::Pod& a, const v1alpha::Pod& b) {
  return a.created_at() != b.created_at() ? a.created_at() > b.created_at() : a.id() > b.id();
}

// The pod-level fields from the newest attempt (`sorted` oldest first), dated by the oldest.
void SetPodFields(const std::vector<const v1alpha::Pod*>& sorted, const PodStatusContext& context,
                  KubePodStatus& out) {
  const v1alpha::Pod& current = *sorted.back();
  const Annotations notes = ToMap(current.annotations());
  out.namespace_name = Get(notes, kube::kPodNamespaceAnnotation);
  out.name = Get(notes, kube::kPodNameAnnotation);
  out.uid = Get(notes, kube::kPodUidAnnotation);
  out.pod_id = current.id();
  out.attempts = static_cast<int>(sorted.size());
  out.node = context.node_name;
  out.terminating = context.terminating;
  out.qos_class = Get(notes, kube::kQosClassAnnotation);
  out.host_ip = context.host_ip;
  out.created_at_ns = sorted.front()->created_at();
  out.started_at_ns = current.started_at();
  const std::string label_prefix = kLabelAnnotationPrefix;
  for (const auto& [key, value] : notes) {
    if (StartsWith(key, label_prefix)) {
      out.labels[key.substr(label_prefix.size())] = value;
    } else if (key != kube::kManagedByAnnotation && key != kube::kPodUidAnnotation &&
               key != kube::kPodNameAnnotation && key != kube::kPodNamespaceAnnotation &&
               !StartsWith(key, "comet.dev/")) {
      out.annotations[key] = value;
    }
  }
  if (context.host_network) {
    if (!context.host_ip.empty()) {
      out.pod_ips.push_back(context.host_ip);
    }
    return;
  }
  // Kubernetes' podIPs: one per family, IPv4 first.
  std::string ipv4;
  std::string ipv6;
  for (const v1alpha::Network& network : current.networks()) {
    if (ipv4.empty()) {
      ipv4 = network.ipv4();
    }
    if (ipv6.empty()) {
      ipv6 = network.ipv6();
    }
  }
  for (std::string* ip : {&ipv4, &ipv6}) {
    if (!ip->empty()) {
      out.pod_ips.push_back(std::move(*ip));
    }
  }
}

// Restarts of the container `name` before the newest attempt (one per earlier attempt in which
// it ran, a new comet pod being a restart of all of them, plus the supervisor's restarts there),
// and how the previous attempt's run of it ended, when it did.
int EarlierRestarts(const std::vector<const v1alpha::Pod*>& sorted, const std::string& name,
                    bool init, std::optional<ContainerState>* previous_end) {
  int restarts = 0;
  for (size_t k = 0; k + 1 < sorted.size(); ++k) {
    const v1alpha::App* earlier = FindApp(*sorted[k], name);
    if (earlier == nullptr) {
      continue;
    }
    const Annotations notes = ToMap(earlier->annotations());
    if (Get(notes, pod::kAppStateAnnotation).empty()) {
      continue;  // never started there
    }
    restarts += 1 + static_cast<int>(ParseInt(Get(notes, pod::kAppRestartsAnnotation)).value_or(0));
    if (k + 2 == sorted.size()) {
      ContainerState ended = StatesOf(*earlier, notes, sorted[k]->state(), init, true).first;
      if (ended.kind == ContainerState::Kind::kTerminated) {
        *previous_end = std::move(ended);
      }
    }
  }
  return restarts;
}

// One container of the newest attempt (`sorted` oldest first).
KubeContainerStatus ContainerOf(const std::vector<const v1alpha::Pod*>& sorted,
                                const v1alpha::App& app, bool inits_done,
                                const PodStatusContext& context) {
  const v1alpha::Pod& current = *sorted.back();
  const Annotations notes = ToMap(app.annotations());
  KubeContainerStatus container;
  container.name = app.name();
  container.init = Get(notes, pod::kAppInitAnnotation) == "true";
  container.image = ImageOf(app);
  container.image_id = app.image().id();
  container.container_id = "comet://" + current.id() + ":" + app.name();
  std::tie(container.state, container.last_state) =
      StatesOf(app, notes, current.state(), container.init, inits_done);
  std::optional<ContainerState> previous_end;
  container.restart_count =
      static_cast<int>(ParseInt(Get(notes, pod::kAppRestartsAnnotation)).value_or(0)) +
      EarlierRestarts(sorted, app.name(), container.init, &previous_end);
  if (!container.last_state) {
    // No earlier run in this attempt: the last state is how the previous attempt ended.
    container.last_state = std::move(previous_end);
  }
  if (container.init) {
    container.ready = IsCompleted(container.state);
  } else if (container.state.kind == ContainerState::Kind::kRunning) {
    auto probe = context.readiness.find(container.name);
    container.ready = probe == context.readiness.end() || probe->second;
  }
  return container;
}

}  // namespace

const char* PodPhaseName(PodPhase phase) {
  switch (phase) {
    case PodPhase::kPending:
      return "Pending";
    case PodPhase::kRunning:
      return "Running";
    case PodPhase::kSucceeded:
      return "Succeeded";
    case PodPhase::kFailed:
      return "Failed";
    case PodPhase::kUnknown:
      break;
  }
  return "Unknown";
}

std::map<std::string, std::vector<v1alpha::Pod>> GroupByKubePod(
    const std::vector<v1alpha::Pod>& pods) {
  std::map<std::string, std::vector<v1alpha::Pod>> out;
  for (const v1alpha::Pod& pod : pods) {
    const Annotations notes = ToMap(pod.annotations());
    const std::string ns = Get(notes, kube::kPodNamespaceAnnotation);
    const std::string name = Get(notes, kube::kPodNameAnnotation);
    if (ns.empty() || name.empty()) {
      continue;
    }
    std::string key = ns;
    key.append("/").append(name);
    out[key].push_back(pod);
  }
  for (auto& [key, group] : out) {
    std::ranges::sort(group,
                      [](const v1alpha::Pod& a, const v1alpha::Pod& b) { return NewerThan(b, a); });
  }
  return out;
}

KubePodStatus ComputePodStatus(const std::vector<v1alpha::Pod>& attempts,
                               const PodStatusContext& context) {
  KubePodStatus out;
  if (attempts.empty()) {
    return out;
  }
  std::vector<const v1alpha::Pod*> sorted;
  sorted.reserve(attempts.size());
  for (const v1alpha::Pod& pod : attempts) {
    sorted.push_back(&pod);
  }
  std::ranges::sort(sorted,
                    [](const v1alpha::Pod* a, const v1alpha::Pod* b) { return NewerThan(*b, *a); });
  const v1alpha::Pod& current = *sorted.back();
  SetPodFields(sorted, context, out);
  const std::vector<Resources> resources =
      ResourcesOf(current.manifest(), static_cast<size_t>(current.apps_size()));
  const bool inits_done = InitsDone(current);
  for (int i = 0; i < current.apps_size(); ++i) {
    KubeContainerStatus container = ContainerOf(sorted, current.apps(i), inits_done, context);
    const Resources& r = resources[static_cast<size_t>(i)];
    container.cpu_limit_millis = r.cpu_limit;
    container.cpu_request_millis = r.cpu_request;
    container.memory_limit_bytes = r.memory_limit;
    container.memory_request_bytes = r.memory_request;
    (container.init ? out.init_containers : out.containers).push_back(std::move(container));
  }
  out.phase = PhaseOf(current.state(), out, context.restart_policy);
  out.conditions = ConditionsOf(out);
  return out;
}

}  // namespace comet::node
