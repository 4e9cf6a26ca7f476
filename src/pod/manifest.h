// The pod manifest: what stage0 (`comet run`, `prepare`, `app add`) decided about a pod, stored as
// JSON in <pod dir>/pod (rkt's name) and read by the supervisor, `cat-manifest`, `list` and the
// api-service. Everything about an app is resolved at prepare time (argv, env, image digest), so
// the supervisor never looks at image configs or registries. Thread-safe (pure functions).
#ifndef COMET_POD_MANIFEST_H_
#define COMET_POD_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::pod {

inline constexpr int kManifestVersion = 1;
// The largest pod file we read (a manifest is a few KiB; this bounds hostile input).
inline constexpr size_t kMaxManifestBytes = 4 << 20;

// Annotation of a pod whose apps get flattened copies of their images instead of overlay
// mounts (`run --no-overlay`, rkt's flag).
inline constexpr const char* kNoOverlayAnnotation = "comet.dev/no-overlay";
// Annotation of a pod whose apps run without the default seccomp profile
// (oci/default_seccomp.h), when set to kSeccompUnconfined (`run --insecure-options=seccomp`,
// rkt's flag). Any other value but "default" is an error when the apps' specs are built.
inline constexpr const char* kSeccompAnnotation = "comet.dev/seccomp";
inline constexpr const char* kSeccompUnconfined = "unconfined";
// Annotation of an app that must not run as uid 0 (Kubernetes' runAsNonRoot): the supervisor
// refuses to start it when its user resolves to root.
inline constexpr const char* kRunAsNonRootAnnotation = "comet.dev/run-as-non-root";

enum class RestartPolicy { kNever, kOnFailure, kAlways };
enum class VolumeKind { kHost, kEmpty };
// How the pod's apps reach the network (rkt's --net): kNone, a private network namespace with
// loopback only; kHost, the host's; kNetworks, a private namespace joined to `networks` (CNI
// networks: "default" or names from /etc/comet/net.d; rootless: slirp4netns or pasta); kNetns,
// an existing namespace (`netns`, a path such as /run/netns/NAME).
enum class NetMode { kNone, kHost, kNetworks, kNetns };

// A published port (--port): host_ip:host_port on the host forwarded to pod_port in the pod.
struct PortMapping {
  std::string name;     // rkt's NAME:HOSTPORT form: the image port it was resolved from
  std::string host_ip;  // empty: every address of the host
  uint32_t host_port = 0;
  uint32_t pod_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"
};

// An extra line of the pod's /etc/hosts (--hosts-entry=IP=NAME[,NAME...]).
struct HostsEntry {
  std::string ip;
  std::vector<std::string> names;
};

struct Volume {
  std::string name;  // [a-z0-9] with inner '-', '.', '_'; unique in the pod
  VolumeKind kind = VolumeKind::kEmpty;
  std::string source;  // host: absolute path on the host (must exist)
  bool read_only = false;
  bool recursive = true;  // host: rbind (rkt's recursive=)
  // empty volumes: on disk under <pod>/volumes/<name>, or tmpfs when medium is "memory".
  std::string medium;       // "" (disk) or "memory"
  uint64_t size_bytes = 0;  // tmpfs size= (0: the kernel's default)
  uint32_t mode = 0755;
  uint32_t uid = 0;
  uint32_t gid = 0;
  // empty volumes: a directory relative to the pod directory (Kubernetes configMap and secret
  // volumes: "seed/<name>", written by stage0) whose files the supervisor copies into the new
  // volume before any app starts; empty: none.
  std::string seed;
};

struct MountPoint {
  std::string volume;  // a Volume's name
  std::string target;  // absolute path inside the app
  bool read_only = false;
  // A relative path inside the volume to mount instead of its root (Kubernetes' subPath),
  // created as a directory when missing; no "..".
  std::string sub_path;
};

struct Resources {
  int64_t cpu_millis = 0;    // --cpu (750m, 2): CFS quota; 0 = unlimited
  uint64_t cpu_shares = 0;   // 0 = default
  int64_t memory_bytes = 0;  // 0 = unlimited
  int64_t pids = 0;          // 0 = unlimited
  std::optional<int> oom_score_adj;
};

// A device node of an app (--device, CDI deviceNodes), resolved by stage0 from the host: the
// supervisor makes it in the app's /dev (bind-mounts the host's node in rootless pods) and allows
// it in the app's device cgroup.
struct AppDevice {
  std::string path;       // absolute path inside the app
  std::string host_path;  // the host's node (absolute)
  char type = 'c';        // 'c' (char), 'b' (block) or 'p' (fifo)
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;  // permission bits; absent: 0666
  std::string permissions = "rwm";    // device cgroup access, a subset of "rwm"
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// A host path bind-mounted into an app (CDI mounts: driver libraries, ...); "bind" is added to
// the options when neither bind nor rbind is among them.
struct AppBindMount {
  std::string host_path;       // absolute
  std::string container_path;  // absolute, no ".."
  std::vector<std::string> options;
};

// An OCI hook of an app (CDI hooks), run by the runtime at `stage`.
struct AppHook {
  // createRuntime, createContainer, startContainer, prestart, poststart or poststop.
  std::string stage;
  std::string path;  // absolute
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct App {
  std::string name;      // unique in the pod, same charset as Volume::name
  std::string image;     // the reference the user gave ("busybox", "localhost:5000/a:1")
  std::string image_id;  // the store's manifest digest, "sha256:<hex>"
  // The image's config digest, what `comet image list`, podman and docker call the image ID;
  // empty in manifests written before it was recorded.
  std::string image_config_id;
  // The image's unpacked layer trees in the store, lowest first (absolute paths), filled by
  // stage0 once they exist: the supervisor mounts them without opening the image store, so it
  // links neither nettle nor libarchive (its memory is the per-pod cost).
  std::vector<std::string> layers;
  std::vector<std::string> exec;  // argv[0] and arguments, resolved (never empty)
  std::vector<std::string> env;   // KEY=VALUE, image env merged with --set-env/--environment
  std::string working_dir = "/";
  std::string user = "0";  // uid or name (looked up in the app's /etc/passwd)
  // gid or name (looked up in the app's /etc/group); empty: the user's primary group (from the
  // app's /etc/passwd; 0 when the user has no entry there).
  std::string group;
  std::vector<uint32_t> supplementary_gids;
  bool read_only_rootfs = false;
  std::vector<std::string> caps_retain;  // "CAP_NET_ADMIN"; empty: the default set
  std::vector<std::string> caps_remove;
  Resources resources;
  std::vector<MountPoint> mounts;
  RestartPolicy restart = RestartPolicy::kNever;
  bool init = false;   // an init container: runs to success, in order, before the apps
  bool stdin = false;  // -i: stdin kept open for attach (else /dev/null)
  bool tty = false;    // -t: the app gets a pty
  std::map<std::string, std::string> annotations;
  // Devices (--device, CDI), resolved by stage0 so that the supervisor reads no CDI spec: what
  // was asked for ("nvidia.com/gpu=0", informational), and the edits it came to. CDI env went
  // into `env`, its additional gids into `supplementary_gids`.
  std::vector<std::string> cdi_devices;
  std::vector<AppDevice> devices;
  std::vector<AppBindMount> bind_mounts;
  std::vector<AppHook> hooks;
};

struct PodManifest {
  int version = kManifestVersion;
  std::string uuid;       // lowercase 8-4-4-4-12 hex
  std::string name;       // optional, from --pod-name; unique among live pods is not enforced
  std::string created;    // RFC 3339 with nanoseconds, UTC
  std::vector<App> apps;  // init containers first, then apps, each in start order
  std::vector<Volume> volumes;
  NetMode net = NetMode::kNone;       // the CLI's default: kNetworks {"default"}
  std::vector<std::string> networks;  // kNetworks: attached in this order (eth0, eth1, ...)
  std::string netns;                  // kNetns: the namespace's path
  std::vector<PortMapping> ports;     // only with kNetworks
  std::vector<HostsEntry> hosts_entries;
  std::string hostname;  // empty: "comet-<uuid>"
  std::vector<std::string>
      dns;  // nameservers for /etc/resolv.conf (empty: left as the image has it)
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  bool share_pid = false;    // apps share one pid namespace (--pid=pod)
  bool host_pid = false;     // apps run in the host's pid namespace (Kubernetes hostPID)
  bool host_ipc = false;     // the pod uses the host's ipc namespace (Kubernetes hostIPC)
  bool mutable_pod = false;  // `app sandbox`: stays up with no app; apps come through `app add`
  bool rootless = false;     // made by an unprivileged user (runs in a user namespace)
  int64_t stop_grace_seconds = 10;  // SIGTERM to SIGKILL on stop
  std::map<std::string, std::string> annotations;
};

[[nodiscard]] std::string_view RestartPolicyName(RestartPolicy policy);         // "Never", ...
[[nodiscard]] Result<RestartPolicy> ParseRestartPolicy(std::string_view name);  // any case

// Parses and validates (ValidateManifest) the JSON of a pod file. Bounded by kMaxManifestBytes;
// unknown fields are ignored (forward compatibility), a newer "version" is an error.
[[nodiscard]] Result<PodManifest> ParseManifest(std::string_view json);
[[nodiscard]] std::string ManifestToJson(const PodManifest& manifest, bool pretty);

// Names are valid and unique (apps, volumes), every app has exec and an image_id, mount points
// name existing volumes and absolute targets without "..", host volumes have absolute sources,
// resources are not negative, oom_score_adj in [-1000, 1000]. Errors name the field:
// `apps[1].name "web": duplicate app name`.
[[nodiscard]] Status ValidateManifest(const PodManifest& manifest);

// Reads <pod_dir>/pod.
[[nodiscard]] Result<PodManifest> ReadManifest(const std::string& pod_dir);
// Writes <pod_dir>/pod atomically (temp + rename), fsync'ed unless !durable: `run` skips it,
// since a power cut ends its pod anyway (a torn manifest then reads as an unreadable pod, which
// gc removes); `prepare` keeps it, for a pod that must outlive a reboot.
[[nodiscard]] Status WriteManifest(const std::string& pod_dir, const PodManifest& manifest,
                                   bool durable = true);

// App and volume names: 1-63 of [a-z0-9._-], starting and ending with [a-z0-9] (they become
// file names, cgroup names and runtime container ids).
[[nodiscard]] bool IsValidName(std::string_view name);
inline constexpr size_t kMaxNameLength = 63;

// A fresh random (version 4) UUID.
[[nodiscard]] std::string NewUuid();
[[nodiscard]] bool IsValidUuid(std::string_view text);

}  // namespace comet::pod

#endif  // COMET_POD_MANIFEST_H_
