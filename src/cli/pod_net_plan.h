// Stage0's part of a pod's contained networking: the networks named by --net looked up in
// <local-config>/net.d (and the built-in "default"), and planned — plugins installed, subnets
// not overlapping, published host ports free — before the pod may start, so that a bad network
// config is an error of `comet run` itself. The plan is what the supervisor attaches.
// Thread-safe (no shared state).
#ifndef COMET_CLI_POD_NET_PLAN_H_
#define COMET_CLI_POD_NET_PLAN_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "network/attachment.h"
#include "pod/manifest.h"

namespace comet::cli {

// rkt's --local-config: comet's configuration directory; networks are in <dir>/net.d.
inline constexpr const char* kDefaultLocalConfig = "/etc/comet";

// The per-boot directory where host-local keeps the addresses it gave pods (a reboot ends every
// pod, and their leases with them).
inline constexpr const char* kIpamDataDir = "/run/comet/networks";

// The plan of `manifest`'s networks (NetMode::kNetworks; empty for the other modes): one
// record per network, interfaces eth0, eth1... in --net order, the published ports on the first
// network that can publish them. Errors name the network, file or port.
[[nodiscard]] Result<std::vector<network::NetworkAttachment>> PlanPodNetworks(
    const pod::PodManifest& manifest, const std::string& local_config);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_NET_PLAN_H_
