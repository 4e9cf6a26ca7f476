// The Kubernetes objects comet reads from YAML (kube/yaml_parse.h): a v1 Pod (also the pod
// template of a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob), ConfigMaps and
// Secrets. Only the fields comet acts on are kept; the parser warns about the others. Values are
// as written in the YAML (quantities as text, parsed by kube/quantity.h), defaults applied as the
// API server would (restartPolicy Always, dnsPolicy ClusterFirst, grace period 30 s, ...).
// Plain data, thread-compatible.
#ifndef COMET_KUBE_OBJECTS_H_
#define COMET_KUBE_OBJECTS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace comet::kube {

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_ = "default";  // NOLINT(readability-identifier-naming): a keyword
  std::string uid;                     // empty unless the YAML gives one
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// env[].valueFrom: exactly one of the references is set.
struct ObjectFieldSelector {
  std::string field_path;  // metadata.name, metadata.labels['k'], spec.nodeName, status.podIP...
};
struct ResourceFieldSelector {
  std::string container_name;  // empty: this container
  std::string resource;        // limits.cpu, requests.memory, ...
  std::string divisor;         // a quantity; empty: 1
};
struct KeySelector {  // configMapKeyRef, secretKeyRef
  std::string name;
  std::string key;
  bool optional = false;
};
struct EnvVarSource {
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<KeySelector> config_map_key_ref;
  std::optional<KeySelector> secret_key_ref;
};
struct EnvVar {
  std::string name;
  std::string value;  // may hold $(VAR) references, expanded as the kubelet does
  std::optional<EnvVarSource> value_from;
};
// envFrom[]: every key of a ConfigMap or Secret, with an optional prefix.
struct EnvFromSource {
  std::string prefix;
  std::optional<KeySelector> config_map_ref;  // key unused
  std::optional<KeySelector> secret_ref;      // key unused
};

struct ContainerPort {
  std::string name;
  int32_t container_port = 0;
  int32_t host_port = 0;  // 0: not published
  std::string host_ip;
  std::string protocol = "TCP";  // TCP, UDP, SCTP
};

struct VolumeMount {
  std::string name;
  std::string mount_path;
  std::string sub_path;  // relative, no ".."
  bool read_only = false;
};

struct VolumeDevice {  // volumeDevices[] (raw block): warned about, not supported
  std::string name;
  std::string device_path;
};

// requests and limits by resource name ("cpu", "memory", "nvidia.com/gpu", ...), quantities as
// written ("500m", "128Mi", "1").
struct ResourceRequirements {
  std::map<std::string, std::string> limits;
  std::map<std::string, std::string> requests;
};

struct Capabilities {
  std::vector<std::string> add;  // as written: "NET_ADMIN" or "CAP_NET_ADMIN"
  std::vector<std::string> drop;
};

struct SeccompProfile {
  std::string type;  // RuntimeDefault, Unconfined, Localhost
  std::string localhost_profile;
};

// A container's securityContext over the pod's (merged by the converter, not the parser).
struct SecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<bool> privileged;
  std::optional<bool> read_only_root_filesystem;
  std::optional<bool> allow_privilege_escalation;
  std::optional<Capabilities> capabilities;
  std::optional<SeccompProfile> seccomp_profile;
};
struct PodSecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::vector<int64_t> supplemental_groups;
  std::optional<int64_t> fs_group;
  std::optional<SeccompProfile> seccomp_profile;
  std::map<std::string, std::string> sysctls;  // name -> value
};

// A probe's or a lifecycle hook's action: exactly one of exec, http_get, tcp_socket is set.
struct ExecAction {
  std::vector<std::string> command;
};
struct HttpHeader {
  std::string name;
  std::string value;
};
struct HttpGetAction {
  std::string path = "/";
  std::string port;  // a number or a container port's name
  std::string host;  // empty: the pod's IP
  std::string scheme = "HTTP";
  std::vector<HttpHeader> headers;
};
struct TcpSocketAction {
  std::string port;  // a number or a container port's name
  std::string host;
};
struct Handler {
  std::optional<ExecAction> exec;
  std::optional<HttpGetAction> http_get;
  std::optional<TcpSocketAction> tcp_socket;
  std::optional<int64_t> sleep_seconds;  // lifecycle sleep action
};
struct Probe {
  Handler handler;
  int32_t initial_delay_seconds = 0;
  int32_t timeout_seconds = 1;
  int32_t period_seconds = 10;
  int32_t success_threshold = 1;
  int32_t failure_threshold = 3;
};
struct Lifecycle {
  std::optional<Handler> post_start;
  std::optional<Handler> pre_stop;
};

struct Container {
  std::string name;
  std::string image;
  std::string image_pull_policy;  // Always, IfNotPresent, Never; empty: by the tag (as k8s)
  std::optional<std::vector<std::string>> command;  // replaces the image's entrypoint
  std::optional<std::vector<std::string>> args;     // replaces the image's cmd
  std::string working_dir;
  std::vector<ContainerPort> ports;
  std::vector<EnvFromSource> env_from;
  std::vector<EnvVar> env;
  ResourceRequirements resources;
  std::vector<VolumeMount> volume_mounts;
  std::vector<VolumeDevice> volume_devices;
  std::optional<Probe> liveness_probe;
  std::optional<Probe> readiness_probe;
  std::optional<Probe> startup_probe;
  std::optional<Lifecycle> lifecycle;
  std::string termination_message_path = "/dev/termination-log";
  std::optional<SecurityContext> security_context;
  bool stdin = false;
  bool stdin_once = false;
  bool tty = false;
  std::string restart_policy;  // initContainers only: "Always" makes a sidecar
};

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
};

enum class VolumeSourceKind { kHostPath, kEmptyDir, kConfigMap, kSecret };

struct Volume {
  std::string name;
  VolumeSourceKind kind = VolumeSourceKind::kEmptyDir;
  // hostPath
  std::string path;
  std::string host_path_type;  // "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket,
                               // CharDevice, BlockDevice
  // emptyDir
  std::string medium;      // "" or "Memory"
  std::string size_limit;  // a quantity; empty: none
  // configMap (config_map_name) / secret (secret_name)
  std::string source_name;
  std::vector<KeyToPath> items;  // empty: every key
  std::optional<int32_t> default_mode;
  bool optional = false;
};

struct PodDnsConfigOption {
  std::string name;
  std::string value;  // empty: a bare option ("rotate")
};
struct PodDnsConfig {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<PodDnsConfigOption> options;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
};

struct PodSpec {
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  std::vector<Volume> volumes;
  std::string restart_policy = "Always";  // Always, OnFailure, Never
  int64_t termination_grace_period_seconds = 30;
  std::optional<int64_t> active_deadline_seconds;
  std::string dns_policy = "ClusterFirst";  // ClusterFirst, ClusterFirstWithHostNet, Default,
                                            // None
  std::optional<PodDnsConfig> dns_config;
  std::string node_name;
  std::string service_account_name;
  bool host_network = false;
  bool host_pid = false;
  bool host_ipc = false;
  bool share_process_namespace = false;
  std::string hostname;
  std::string subdomain;
  std::vector<HostAlias> host_aliases;
  std::optional<PodSecurityContext> security_context;
  std::string priority_class_name;
};

struct Pod {
  ObjectMeta metadata;
  PodSpec spec;
  std::string source;  // where it came from: "FILE: document N (Deployment web)"
};

struct ConfigMap {
  ObjectMeta metadata;
  std::map<std::string, std::string> data;         // text
  std::map<std::string, std::string> binary_data;  // decoded from base64
};

struct Secret {
  ObjectMeta metadata;
  std::string type = "Opaque";
  std::map<std::string, std::string> data;  // decoded from base64 (stringData merged in)
};

// Everything one YAML stream (or a directory of them) defines, in document order.
struct Objects {
  std::vector<Pod> pods;
  std::vector<ConfigMap> config_maps;
  std::vector<Secret> secrets;
};

}  // namespace comet::kube

#endif  // COMET_KUBE_OBJECTS_H_
