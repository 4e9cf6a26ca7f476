// What the supervisor sets up for the whole pod before any app starts: its own namespaces (a
// private mount namespace, the pod's ipc/uts and, for --net=none, net namespaces, which the apps
// join through /proc/<supervisor>/ns), the empty volumes and the /etc files bind-mounted into
// every app. Call from the single-threaded supervisor; not thread-safe.
#ifndef COMET_SUPERVISOR_POD_SETUP_H_
#define COMET_SUPERVISOR_POD_SETUP_H_

#include <string>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"
#include "pod/pod_networks.h"

namespace comet::supervisor {

// The pod's hostname: manifest.hostname, else "comet-<uuid>" (42 characters, within
// HOST_NAME_MAX).
[[nodiscard]] std::string PodHostname(const pod::PodManifest& manifest);

// Unshares this process's mount namespace (with / made rslave, so host mounts still propagate
// in and nothing of ours propagates out), ipc and uts (and net for NetMode::kNone, with lo up),
// then sets the hostname. `netns_fd` >= 0: joins that network namespace (NetMode::kNetworks: the
// pinned one the networks were added to); NetMode::kNetns: joins the manifest's namespace.
[[nodiscard]] Status SetUpPodNamespaces(const pod::PodManifest& manifest, int netns_fd = -1);

// `path` opened (O_CLOEXEC); invalid unless it is a network namespace (nsfs).
[[nodiscard]] Result<os::UniqueFd> OpenNetworkNamespace(const std::string& path);

// Brings the loopback interface of the current network namespace up.
[[nodiscard]] Status BringLoopbackUp();

// Where the pod's generated /etc files live: <pod>/etc/{hosts,hostname,resolv.conf}.
[[nodiscard]] std::string PodEtcFile(const std::string& pod_dir, const char* name);

// Writes <pod>/etc/hosts (with host networking the host's; else localhost, and the pod's
// hostname for each of its `addresses`; then --hosts-entry lines) and hostname, and resolv.conf
// when the manifest has DNS settings, or else with host networking a copy of the host's, with
// contained networks the host's without loopback nameservers. Returns whether resolv.conf was
// written.
[[nodiscard]] Result<bool> WritePodEtcFiles(const std::string& pod_dir,
                                            const pod::PodManifest& manifest,
                                            const std::vector<pod::PodNetworkAddress>& addresses);

// Creates the empty volumes: <pod>/volumes/<name> with the volume's mode and owner; a tmpfs is
// mounted there (in the supervisor's mount namespace, so it dies with it) for medium=memory.
[[nodiscard]] Status SetUpVolumes(const std::string& pod_dir, const pod::PodManifest& manifest);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_POD_SETUP_H_
