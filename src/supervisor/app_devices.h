// An app's devices, bind mounts and hooks (pod::App::devices, bind_mounts, hooks, resolved by
// stage0 from --device and CDI specs) written into its OCI spec. Pure; thread-safe.
#ifndef COMET_SUPERVISOR_APP_DEVICES_H_
#define COMET_SUPERVISOR_APP_DEVICES_H_

#include "base/result.h"
#include "oci/spec.h"
#include "pod/manifest.h"

namespace comet::supervisor {

// Device nodes go to linux.devices, each with a device cgroup rule allowing its type, numbers
// and permissions (after the spec's deny-all rule, so the last matching rule allows it). In a
// rootless pod no node can be made (mknod needs CAP_MKNOD in the initial user namespace) and
// there is no device cgroup: the host's node is bind-mounted at the path instead, as podman
// does. Bind mounts get "bind" added when their options have neither bind nor rbind; hooks are
// appended at their stage. `spec` must have linux_config set.
[[nodiscard]] Status AddAppDevices(const pod::App& app, bool rootless, oci::Spec& spec);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_APP_DEVICES_H_
