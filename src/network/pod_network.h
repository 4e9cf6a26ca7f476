// Attaching a pod's netns to its networks and detaching it: plan (validate, materialise, name
// interfaces eth0, eth1...), ADD each network in order (rolling back on failure), DEL in
// reverse. The caller persists the planned records BEFORE Attach so that gc can Detach after a
// kill -9, and again after Attach for the addresses. Thread-safe (no shared state).
#ifndef COMET_NETWORK_POD_NETWORK_H_
#define COMET_NETWORK_POD_NETWORK_H_

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "network/attachment.h"
#include "network/cni_config.h"
#include "network/cni_plugin.h"
#include "network/port_mapping.h"

namespace comet::network {

struct NetworkSelection {
  NetworkConfig config;
  std::string cni_args;  // CNI_ARGS for this network (rkt's --net=NAME:K=V;K2=V2), may be empty
};

struct AttachRequest {
  std::string container_id;                // the pod uuid
  std::string netns;                       // the pinned netns (CreatePinnedNetns)
  std::vector<NetworkSelection> networks;  // interface eth<i> for networks[i]
  // Published ports (names already resolved): they go to the first network whose chain has a
  // plugin declaring the portMappings capability (one DNAT per port, not one per network).
  // The caller reserves them first with ReserveHostPorts (port_mapping.h) and holds the
  // sockets while the pod runs: that is the "port already taken" check.
  std::vector<PortMapping> port_mappings;
  MaterializeOptions materialize;
};

// Validates the request without changing anything: network names unique, plugins installed,
// host-local subnets not overlapping, a network able to publish ports when ports are asked
// for. Returns the records Attach will fill.
[[nodiscard]] Result<std::vector<NetworkAttachment>> PlanAttachments(
    const AttachRequest& request, const CniRuntimeOptions& options);

// Called with all records whenever a result was added to one (after every plugin of a chain),
// for the caller to persist: a DEL after a kill -9 then has the addresses some plugins (the
// firewall) need. An error aborts the attach (rolled back like a plugin failure).
using AttachCheckpoint = std::function<Status(const std::vector<NetworkAttachment>& records)>;

// ADDs each planned network in order, storing each result (and addresses) in its record. On a
// failure it DELs the failed network and every one added before it, in reverse, clears the
// results and returns the ADD's error: nothing is left behind.
[[nodiscard]] Status Attach(std::vector<NetworkAttachment>* records,
                            const CniRuntimeOptions& options,
                            const AttachCheckpoint& checkpoint = nullptr);

// PlanAttachments then Attach.
[[nodiscard]] Result<std::vector<NetworkAttachment>> AttachPod(const AttachRequest& request,
                                                               const CniRuntimeOptions& options);

// CHECKs every attached record (those with a result) in order; the first failure.
[[nodiscard]] Status CheckAttachments(const std::vector<NetworkAttachment>& records,
                                      const CniRuntimeOptions& options);

// DELs every record in reverse order (with its ADD result when recorded; with CNI_NETNS empty
// when the netns pin is gone), going on past failures; returns the first. Repeatable.
[[nodiscard]] Status Detach(const std::vector<NetworkAttachment>& records,
                            const CniRuntimeOptions& options);

}  // namespace comet::network

#endif  // COMET_NETWORK_POD_NETWORK_H_
