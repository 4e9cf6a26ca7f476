// The kubelet's view of one Kubernetes pod, computed from what the api-service says about the
// comet pods that ran it (one per attempt: the agent starts a new comet pod when it restarts a
// whole pod). What `comet node get pods` and `describe pod` print and what the agent acts on:
// phase, QoS class, IPs, conditions and, per container, its state (Waiting, Running, Terminated),
// last state, readiness, restart count, image and resources. The comet pods carry the
// annotations `comet play` writes (kube/to_comet.h) and the api-service's app annotations
// (pod/app_annotations.h). Pure functions on plain structs; thread-safe.
#ifndef COMET_NODE_POD_STATUS_H_
#define COMET_NODE_POD_STATUS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "v1alpha/api.pb.h"

namespace comet::node {

// Labels of a Kubernetes pod are kept as pod annotations under this prefix
// ("io.kubernetes.label/app": "web"), as kube/to_comet.cc writes them.
inline constexpr const char* kLabelAnnotationPrefix = "io.kubernetes.label/";

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };
[[nodiscard]] const char* PodPhaseName(PodPhase phase);  // "Pending", "Running", ...

struct ContainerState {
  enum class Kind { kWaiting, kRunning, kTerminated };
  Kind kind = Kind::kWaiting;
  // Waiting: ContainerCreating, PodInitializing, CrashLoopBackOff; Terminated: Completed, Error,
  // OOMKilled, StartError, ContainerStatusUnknown, ...
  std::string reason;
  std::string message;
  int exit_code = 0;           // Terminated
  int64_t started_at_ns = 0;   // Running, Terminated (0: unknown)
  int64_t finished_at_ns = 0;  // Terminated (0: unknown)
};

struct KubeContainerStatus {
  std::string name;
  bool init = false;
  std::string image;         // "docker.io/library/busybox:1.36", as the pod asked for it
  std::string image_id;      // the manifest digest
  std::string container_id;  // "comet://<pod uuid>:<app>"
  ContainerState state;
  std::optional<ContainerState> last_state;  // the run before, Terminated
  bool ready = false;
  int restart_count = 0;
  // From the pod manifest's isolators (0: none).
  int64_t cpu_limit_millis = 0;
  int64_t cpu_request_millis = 0;
  int64_t memory_limit_bytes = 0;
  int64_t memory_request_bytes = 0;
};

struct PodCondition {
  std::string type;  // PodScheduled, Initialized, ContainersReady, Ready
  bool status = false;
};

struct KubePodStatus {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string pod_id;  // the newest attempt's comet pod uuid
  int attempts = 0;    // comet pods seen for it
  std::string node;    // copied from PodStatusContext
  PodPhase phase = PodPhase::kUnknown;
  bool terminating = false;  // the agent is stopping it (PodStatusContext): kubectl's Terminating
  std::string qos_class;
  std::vector<std::string> pod_ips;  // IPv4 first
  std::string host_ip;
  int64_t created_at_ns = 0;  // the first attempt's
  int64_t started_at_ns = 0;  // the newest attempt's supervisor start (0: not started)
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;  // the pod's, labels and comet's own left out
  std::vector<KubeContainerStatus> init_containers;
  std::vector<KubeContainerStatus> containers;
  std::vector<PodCondition> conditions;  // in kubectl describe's order
};

// What the agent knows that the api-service does not.
struct PodStatusContext {
  std::string node_name;
  std::string host_ip;
  bool host_network = false;  // pod IPs are the host's
  bool terminating = false;   // the agent is stopping the pod
  // "Always", "OnFailure" or "Never" (empty: as Never and OnFailure, which the supervisor
  // applies within one comet pod). With Always a pod whose apps all exited is Running: the agent
  // starts it again.
  std::string restart_policy;
  // The readiness probes' results by container name; a running container absent here is ready.
  std::map<std::string, bool> readiness;
};

// The comet pods the api-service listed, grouped by Kubernetes pod: key "namespace/name" (from
// io.kubernetes.pod.namespace and .name; pods without them are left out), each group sorted
// oldest first by created_at (then id).
[[nodiscard]] std::map<std::string, std::vector<v1alpha::Pod>> GroupByKubePod(
    const std::vector<v1alpha::Pod>& pods);

// The status of one Kubernetes pod from its attempts (any order; the newest by created_at is the
// current one). `attempts` must not be empty; pods listed without detail (no apps) give a pod
// with no containers.
[[nodiscard]] KubePodStatus ComputePodStatus(const std::vector<v1alpha::Pod>& attempts,
                                             const PodStatusContext& context);

}  // namespace comet::node

#endif  // COMET_NODE_POD_STATUS_H_
