// Turns a Kubernetes Pod (kube/objects.h) into a draft of a comet pod: the pod manifest's
// pod-level fields and one draft per container (init containers first, in order), as the
// kubelet would run it — env resolved (valueFrom from the same file's ConfigMaps and Secrets,
// the downward API, $(VAR) expansion), volumes (hostPath, emptyDir, configMap, secret), QoS class
// and oom_score_adj, capabilities, users, restart policy, DNS. Images are not looked at here:
// stage0 (`comet play`) merges each draft with its image config, checks or creates host paths
// (kube/host_path.h), resolves device requests through CDI and writes the seed files.
// Thread-safe; reads the host only for what NodeInfo leaves out (/proc/meminfo, the cpus online),
// for a dnsConfig merged over the host's resolv.conf, and for a hostNetwork pod's hostname.
#ifndef COMET_KUBE_TO_COMET_H_
#define COMET_KUBE_TO_COMET_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "pod/manifest.h"

namespace comet::kube {

// Annotations every converted pod carries (rktnetes' names), and per app.
inline constexpr const char* kManagedByAnnotation = "rkt.kubernetes.io/managed-by-kubelet";
inline constexpr const char* kPodUidAnnotation = "io.kubernetes.pod.uid";
inline constexpr const char* kPodNameAnnotation = "io.kubernetes.pod.name";
inline constexpr const char* kPodNamespaceAnnotation = "io.kubernetes.pod.namespace";
inline constexpr const char* kContainerNameAnnotation = "io.kubernetes.container.name";
inline constexpr const char* kQosClassAnnotation = "comet.dev/qos-class";

enum class QosClass { kGuaranteed, kBurstable, kBestEffort };

// What the node tells the conversion: the downward API's spec.nodeName and status.hostIP, and
// the memory capacity that Burstable oom scores are relative to.
struct NodeInfo {
  std::string node_name;
  std::string host_ip;
  uint64_t memory_bytes = 0;  // 0: read from /proc/meminfo by ToPodDraft
  int64_t cpu_millis = 0;     // node allocatable cpu (resourceFieldRef limits.cpu default);
                              // 0: the online cpus, by ToPodDraft
  int64_t ephemeral_storage_bytes = 0;  // resourceFieldRef limits.ephemeral-storage default
  // The host's resolver configuration, which dnsPolicy Default and ClusterFirst (no cluster DNS
  // here) start from when the pod has a dnsConfig to add to it.
  std::string resolv_conf = "/etc/resolv.conf";
};

// A file of a configMap or secret volume: written into <pod dir>/<Volume::seed>/<path> by
// stage0, copied into the app's volume by the supervisor. Secrets' contents are never logged.
struct SeedFile {
  std::string path;  // relative, checked: no "..", no absolute
  std::string content;
  uint32_t mode = 0644;
};

// A host path stage0 must check or create before the pod exists (kube/host_path.h).
struct HostPathRequirement {
  std::string path;
  std::string type;   // hostPath.type as written ("" = DirectoryOrCreate for comet, see docs)
  std::string field;  // "spec.volumes[2].hostPath" for errors
};

// A count of devices of a CDI kind ("nvidia.com/gpu": 2) from resources.limits.
struct DeviceRequest {
  std::string kind;
  int64_t count = 0;
};

struct ContainerDraft {
  // Set here: name, image, init, restart, stdin, tty, read_only_rootfs, caps_retain/remove,
  // resources (cpu, memory, oom_score_adj), mounts, supplementary_gids, annotations.
  pod::App app;
  // Kubernetes' rule: command replaces the image's entrypoint (and drops its cmd), args replace
  // its cmd.
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> args;
  std::vector<std::string> env;      // KEY=VALUE, merged over the image's env by stage0
  std::optional<std::string> user;   // runAsUser
  std::optional<std::string> group;  // runAsGroup
  bool run_as_non_root = false;      // stage0 checks the resolved user is not 0
  std::optional<std::string> working_dir;
  std::string pull_policy;  // Always, IfNotPresent, Never (defaulted from the tag)
  std::vector<DeviceRequest> devices;
  // Ports with a hostPort, published by the pod (pod::PodManifest::ports gets them too).
  std::vector<ContainerPort> ports;
};

struct PodDraft {
  // Pod-level fields: name, hostname, dns, dns_search, dns_opt, net/networks, ports,
  // hosts_entries, share_pid, host_pid, host_ipc, stop_grace_seconds, volumes, annotations.
  pod::PodManifest pod;
  std::vector<ContainerDraft> containers;              // init containers first, then containers
  std::map<std::string, std::vector<SeedFile>> seeds;  // volume name -> files
  std::vector<HostPathRequirement> host_paths;
  QosClass qos = QosClass::kBestEffort;
  std::vector<std::string> warnings;  // e.g. "spec.containers[0].env[2] (status.podIP): ..."
};

// Converts `pod`, resolving references against `objects` (the ConfigMaps and Secrets of the same
// file or directory). Errors carry the field path: `spec.containers[1].env[0].valueFrom.
// configMapKeyRef: configmap "cfg" not found`.
[[nodiscard]] Result<PodDraft> ToPodDraft(const Pod& pod, const Objects& objects,
                                          const NodeInfo& node);

[[nodiscard]] const char* QosClassName(QosClass qos);  // "Guaranteed", "Burstable", "BestEffort"

// The QoS class of a pod, from every container's requests and limits (the kubelet's rules).
[[nodiscard]] QosClass PodQosClass(const PodSpec& spec);

// The oom_score_adj of a container (the kubelet's policy): Guaranteed -997, BestEffort 1000,
// Burstable 1000 - 1000 * memoryRequest / memoryCapacity clamped to [2, 999].
[[nodiscard]] int OomScoreAdj(QosClass qos, uint64_t memory_request_bytes,
                              uint64_t memory_capacity_bytes);

}  // namespace comet::kube

#endif  // COMET_KUBE_TO_COMET_H_
