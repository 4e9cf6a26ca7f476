// The OCI config.json of one app of a pod: its process (argv, env, user, caps) from the
// manifest, its snapshot as root, the pod's shared namespaces joined through the supervisor's
// /proc/<pid>/ns, its cgroup and limits, volumes and the pod's /etc files. Pure (reads nothing
// but its input); thread-safe.
#ifndef COMET_SUPERVISOR_APP_SPEC_H_
#define COMET_SUPERVISOR_APP_SPEC_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "pod/manifest.h"
#include "supervisor/user_lookup.h"

namespace comet::supervisor {

// Docker's and podman's default capability set for containers (no NET_RAW, AUDIT_WRITE, MKNOD).
[[nodiscard]] const std::vector<std::string>& DefaultCapabilities();

// "net_admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; an unknown name is an error naming it.
[[nodiscard]] Result<std::string> NormalizeCapability(std::string_view name);

// caps_retain when given (exactly those), else the default set minus caps_remove.
[[nodiscard]] Result<std::vector<std::string>> AppCapabilities(const pod::App& app);

struct AppSpecInput {
  const pod::PodManifest* manifest = nullptr;
  const pod::App* app = nullptr;
  std::string pod_dir;
  pid_t supervisor_pid = 0;
  // share_pid: a process whose pid namespace the app joins (the pod's pause process).
  pid_t pid_namespace_holder = 0;
  ResolvedUser user;
  bool resolv_conf = false;  // <pod>/etc/resolv.conf was written: bind it
  // Per app->mounts entry: the staged source of a subPath mount (sub_paths.h), "" otherwise.
  std::vector<std::string> sub_path_sources;
};

[[nodiscard]] Result<oci::Spec> BuildAppSpec(const AppSpecInput& input);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_APP_SPEC_H_
