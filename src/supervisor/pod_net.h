// The supervisor's side of a pod's contained networks (NetMode::kNetworks, rootful): the plan
// stage0 made is attached to a new network namespace pinned at /run/comet/netns/<uuid>, which
// the supervisor then joins (its apps join it through the supervisor), and detached when the pod
// ends. CNI plugins run in the host's network namespace: attaching happens before the
// supervisor leaves it; detaching, from a forked child that re-enters the host's network and
// mount namespaces (the pin must go from the host's mount table). The records go to
// <pod>/state/net.json before any ADD (pod_networks.h), so gc can undo them after a kill -9.
// Single-threaded (the supervisor's).
#ifndef COMET_SUPERVISOR_POD_NET_H_
#define COMET_SUPERVISOR_POD_NET_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "network/attachment.h"
#include "os/unique_fd.h"

namespace comet::supervisor {

// The host's namespaces, opened before the supervisor leaves them.
struct HostNamespaces {
  os::UniqueFd net;
  os::UniqueFd mnt;
};
[[nodiscard]] Result<HostNamespaces> OpenHostNamespaces();

// Records `plan` (with the pin as each network's netns), pins a new network namespace for the
// pod `uuid` and ADDs the networks to it. Returns the records with their results and an fd of
// the pinned namespace to join. On failure nothing stays: networks rolled back, pin and records
// removed — unless the rollback failed too: then the records and the pin stay, for gc.
// Called in the host's network and mount namespaces.
struct AttachedNetworks {
  std::vector<network::NetworkAttachment> records;
  os::UniqueFd netns;
};
[[nodiscard]] Result<AttachedNetworks> AttachPodNetworks(
    const std::string& pod_dir, const std::string& uuid,
    std::vector<network::NetworkAttachment> plan);

// DELs the pod's recorded networks and removes the pin and the records (pod::DetachNetworks),
// from a child in the host's namespaces. Nothing recorded: nothing to do.
[[nodiscard]] Status DetachPodNetworks(const std::string& pod_dir, const std::string& uuid,
                                       const HostNamespaces& host);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_POD_NET_H_
