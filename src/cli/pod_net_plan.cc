// Stage0's network plan; see pod_net_plan.h.
#include "cli/pod_net_plan.h"

#include <fmt/format.h>

#include "network/network_dir.h"
#include "network/pod_network.h"
#include "network/port_mapping.h"
#include "os/file.h"
#include "pod/pod_networks.h"

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
  const std::string dir = os::JoinPath(local_config, "net.d");
  ASSIGN_OR_RETURN(network::NetworkCatalog catalog, network::LoadNetworks(dir));
  network::AttachRequest request;
  request.container_id = manifest.uuid;
  // The pod's namespace does not exist yet: the supervisor puts its own in each record.
  request.netns = "/proc/self/ns/net";
  request.materialize.ipam_data_dir = kIpamDataDir;
  for (const std::string& name : manifest.networks) {
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
