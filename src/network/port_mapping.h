// Published ports (the CLI parses --port into them): portmap's runtimeConfig entries and the
// reservation of host ports before the CNI portmap plugin takes them. Thread-safe (pure functions,
// plus sockets the check closes).
#ifndef COMET_NETWORK_PORT_MAPPING_H_
#define COMET_NETWORK_PORT_MAPPING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::network {

struct PortMapping {
  std::string host_ip;  // empty: every address of the host; IPv6 without brackets
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // "tcp" or "udp"

  bool operator==(const PortMapping&) const = default;
};

// "8080/tcp", "[::1]:8080/udp", "127.0.0.1:8080/tcp": for messages and status output.
std::string HostSide(const PortMapping& mapping);

// The portmap plugin's runtimeConfig.portMappings entries.
json::Json PortMappingsJson(const std::vector<PortMapping>& mappings);
[[nodiscard]] Result<std::vector<PortMapping>> ParsePortMappingsJson(const json::Json& value);

// Reserves the host ports in the caller's network namespace: a bound socket per mapping (TCP
// ones listening), which the caller holds for as long as the pod runs, as podman's conmon does.
// Traffic never reaches them (portmap's DNAT comes first); they make a second pod, or another
// program, asking for the same port fail here instead of silently sharing or stealing it.
// Fails when two mappings publish the same host port, or a port is taken: "port 8080/tcp on
// 0.0.0.0 is already in use".
[[nodiscard]] Result<std::vector<os::UniqueFd>> ReserveHostPorts(
    const std::vector<PortMapping>& mappings);

// ReserveHostPorts, releasing the reservation at once: a check only.
[[nodiscard]] Status CheckHostPortsFree(const std::vector<PortMapping>& mappings);

}  // namespace comet::network

#endif  // COMET_NETWORK_PORT_MAPPING_H_
