// The networks a node knows: comet's built-in "default" network and the JSON files of a
// directory (rkt's /etc/rkt/net.d layout, /etc/comet/net.d here). Thread-safe (pure functions).
#ifndef COMET_NETWORK_NETWORK_DIR_H_
#define COMET_NETWORK_NETWORK_DIR_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "network/cni_config.h"

namespace comet::network {

inline constexpr std::string_view kDefaultNetworkName = "default";
inline constexpr std::string_view kDefaultNetworkDir = "/etc/comet/net.d";
inline constexpr size_t kMaxNetworkFiles = 1024;

// What the built-in default network is made of; tests pick their own bridge and subnet.
struct DefaultNetworkOptions {
  std::string bridge = "comet0";
  std::string subnet = "172.16.28.0/24";  // rkt's default subnet
  std::string ipv6_subnet;                // empty: IPv4 only
};

// bridge (gateway, masquerade, hairpin) + host-local IPAM with a default route, then portmap
// (capability portMappings, SNAT for connections from the host) and firewall; CNI 1.0.0.
NetworkConfig DefaultNetwork(const DefaultNetworkOptions& options = {});

// True for names the --net flag gives another meaning (none, host, all).
bool IsReservedNetworkName(std::string_view name);

struct NetworkCatalog {
  // The built-in default first (unless a file defines "default"), then the files' networks in
  // file name order (the order `--net=all` applies them in).
  std::vector<NetworkConfig> networks;

  [[nodiscard]] const NetworkConfig* Find(std::string_view name) const;
};

// Reads every *.conf, *.conflist and *.json of `dir` (a missing dir has none) in name order.
// A bad file, a reserved name or a name defined twice is an error naming the file(s). Plugins
// are not looked up here (CheckPluginsInstalled does, for the networks a pod uses).
[[nodiscard]] Result<NetworkCatalog> LoadNetworks(const std::string& dir,
                                                  const DefaultNetworkOptions& defaults = {});

}  // namespace comet::network

#endif  // COMET_NETWORK_NETWORK_DIR_H_
