// Stage0's network plan; see pod_net_plan.h.
#include "cli/pod_net_plan.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "network/network_dir.h"
#include "network/pod_network.h"
#include "network/port_mapping.h"
#include "os/file.h"
#include "pod/pod_networks.h"
#include "supervisor/rootless_net_tool.h"

namespace comet::cli {
namespace {

std::vector<network::PortMapping> HostPorts(const std::vector<pod::PortMapping>& ports) {
  std::vector<network::PortMapping> out;
  out.reserve(ports.size());
  for (const pod::PortMapping& port : ports) {
    network::PortMapping mapping;
    mapping.host_ip = port.host_ip;
    mapping.host_port = static_cast<uint16_t>(port.host_port);  // validated: 1-65535
    mapping.container_port = static_cast<uint16_t>(port.pod_port);
    mapping.protocol = port.protocol;
    out.push_back(std::move(mapping));
  }
  return out;
}

}  // namespace

Result<std::vector<network::NetworkAttachment>> PlanPodNetworks(const pod::PodManifest& manifest,
                                                                const std::string& local_config) {
  if (manifest.net != pod::NetMode::kNetworks) {
    return std::vector<network::NetworkAttachment>{};
  }
  if (manifest.rootless) {
    // No CNI: the supervisor's pasta or slirp4netns gives the pod "default" (and publishes
    // the ports, which must be free now). Found through the same $PATH the supervisor gets.
    RETURN_IF_ERROR(supervisor::CheckRootlessNetworks(manifest));
    RETURN_IF_ERROR(
        supervisor::FindRootlessNetTool(std::getenv("PATH")));  // NOLINT(concurrency-mt-unsafe)
    RETURN_IF_ERROR(network::CheckHostPortsFree(HostPorts(manifest.ports)));
    return std::vector<network::NetworkAttachment>{};
  }
  const std::string dir = os::JoinPath(local_config, "net.d");
  ASSIGN_OR_RETURN(network::NetworkCatalog catalog, network::LoadNetworks(dir));
  network::AttachRequest request;
  request.container_id = manifest.uuid;
  // Where the supervisor will pin the pod's namespace (it does not exist yet).
  request.netns = pod::NetnsPinPath(manifest.uuid);
  request.materialize.ipam_data_dir = kIpamDataDir;
  std::vector<std::string> names = manifest.networks;
  if (names == std::vector<std::string>{"all"}) {  // rkt's --net=all: every network, in order
    names.clear();
    for (const network::NetworkConfig& config : catalog.networks) {
      names.push_back(config.name);
    }
  } else if (std::find(names.begin(), names.end(), "all") != names.end()) {
    return Err(Error::Invalid("--net all: means every network, it cannot be listed with others"));
  }
  for (const std::string& name : names) {
    const network::NetworkConfig* config = catalog.Find(name);
    if (config == nullptr) {
      return Err(Error::Invalid(fmt::format(
          "--net {}: no network named {:?} (networks are \"default\" and the files of {})", name,
          name, dir)));
    }
    request.networks.push_back({*config, ""});
  }
  request.port_mappings = HostPorts(manifest.ports);
  const network::CniRuntimeOptions options = pod::CniOptionsFromEnvironment();
  ASSIGN_OR_RETURN(std::vector<network::NetworkAttachment> plan,
                   network::PlanAttachments(request, options));
  RETURN_IF_ERROR(network::CheckHostPortsFree(request.port_mappings));
  return plan;
}

}  // namespace comet::cli
