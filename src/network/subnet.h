// IP prefixes (CIDR) and the check that the networks of one pod do not use overlapping
// host-local subnets (the pod would get two routes to the same addresses). Thread-safe.
#ifndef COMET_NETWORK_SUBNET_H_
#define COMET_NETWORK_SUBNET_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "network/cni_config.h"

namespace comet::network {

struct IpPrefix {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> address{};
  int length = 0;  // prefix length in bits
};

// "10.0.0.0/24", "fd00::/64"; an address without "/len" is rejected.
[[nodiscard]] Result<IpPrefix> ParsePrefix(std::string_view cidr);
// True when the two prefixes share at least one address (same family only).
bool Overlaps(const IpPrefix& a, const IpPrefix& b);

// The subnets the host-local IPAM of `config` allocates from ("ranges" and the older "subnet").
std::vector<std::string> HostLocalSubnets(const NetworkConfig& config);

// "network a subnet X overlaps network b subnet Y" for the first overlap between two different
// networks of `networks`; a subnet that is not a valid prefix is an error naming its network.
[[nodiscard]] Status CheckSubnetOverlap(const std::vector<const NetworkConfig*>& networks);

}  // namespace comet::network

#endif  // COMET_NETWORK_SUBNET_H_
