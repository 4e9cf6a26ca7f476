// A pod's contained networks on disk: the plan stage0 made (<pod>/networks.json: each network's
// config as it will run, interface, ports) and the records of what the supervisor attached
// (<pod>/state/net.json, written before each ADD and again with its result), from which the pod's
// addresses are read and from which teardown DELs — by the supervisor when the pod ends, by gc
// after a supervisor was killed. Not thread-safe (one writer per pod: the lock holder).
#ifndef COMET_POD_POD_NETWORKS_H_
#define COMET_POD_POD_NETWORKS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "network/attachment.h"
#include "network/cni_plugin.h"

namespace comet::pod {

// Relative to the pod directory.
inline constexpr const char* kNetworkPlanFile = "networks.json";
inline constexpr const char* kNetworkRecordsName = "net.json";  // in the volatile directory
inline constexpr const char* kNetworkRecordsFile = "state/net.json";

// The plan (records without results); missing: an empty plan.
[[nodiscard]] Status WriteNetworkPlan(const std::string& pod_dir,
                                      const std::vector<network::NetworkAttachment>& plan);
[[nodiscard]] Result<std::vector<network::NetworkAttachment>> ReadNetworkPlan(
    const std::string& pod_dir);

// The attached networks' records; missing: none.
[[nodiscard]] Status WriteNetworkRecords(const std::string& pod_dir,
                                         const std::vector<network::NetworkAttachment>& records);
[[nodiscard]] Result<std::vector<network::NetworkAttachment>> ReadNetworkRecords(
    const std::string& pod_dir);

// One network of a running pod, as status and list show it.
struct PodNetworkAddress {
  std::string name;
  std::string ipv4;  // "172.16.28.5" (no prefix), or empty
  std::string ipv6;
};
[[nodiscard]] std::vector<PodNetworkAddress> NetworkAddresses(
    const std::vector<network::NetworkAttachment>& records);

// How CNI plugins are found: $CNI_PATH when set (as CNI tools read it), else Debian's plugin
// directory, then /opt/cni/bin. Stage0 (which checks the plugins), the supervisor (which runs
// them) and gc see the same environment.
[[nodiscard]] network::CniRuntimeOptions CniOptionsFromEnvironment();

// Where a rootful pod's network namespace is pinned (a bind mount, network/netns.h) while it has
// contained networks: <kNetnsPinDir>/<uuid>. The pin outlives the supervisor, so that a DEL
// after a kill -9 still finds the pod's interfaces (the bridge plugin removes its masquerade
// rules only by the addresses it finds there).
inline constexpr const char* kNetnsPinDir = "/run/comet/netns";
[[nodiscard]] std::string NetnsPinPath(std::string_view uuid);

// A rootless pod's network (pasta or slirp4netns, supervisor/rootless_net.h) is recorded like a
// CNI one, for status, with this member in its config naming the tool. Such a record has nothing
// to DEL: its helper process ends with the pod.
inline constexpr const char* kRootlessToolKey = "comet.rootless";
[[nodiscard]] bool IsRootlessNetworkRecord(const network::NetworkAttachment& record);

// Teardown's network step: DELs every recorded CNI network of pod `uuid` (network::Detach, in
// its pinned netns when that is still there), then removes the pin and the records. The records
// are trusted only as far as they agree with the pod: a netns other than the pod's pin is not
// entered (the DEL runs without one); a record naming another container id, or an interface
// not eth<N>, is an error. No records: nothing to do. Repeatable. Runs in the host's network and
// mount namespaces. On failure the records stay, for a later try.
[[nodiscard]] Status DetachNetworks(const std::string& pod_dir, std::string_view uuid);

}  // namespace comet::pod

#endif  // COMET_POD_POD_NETWORKS_H_
