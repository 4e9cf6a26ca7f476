// The built-in default network and the loading of a network config directory; see
// network_dir.h.
#include "network/network_dir.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "os/file.h"

namespace comet::network {

namespace {

bool HasConfigSuffix(std::string_view name) {
  constexpr std::string_view kSuffixes[] = {".conf", ".conflist", ".json"};
  return std::ranges::any_of(kSuffixes, [name](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  });
}

// The config files of `dir` in name order; hidden files (editor leftovers) are skipped.
Result<std::vector<std::string>> ConfigFiles(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return names;
    }
    return Err(Error::FromErrno("opening network config dir", dir));
  }
  while (const dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.empty() || name[0] == '.' || !HasConfigSuffix(name)) {
      continue;
    }
    if (names.size() == kMaxNetworkFiles) {
      ::closedir(d);
      return Err(Error::Invalid(
          fmt::format("network config dir {}: more than {} files", dir, kMaxNetworkFiles)));
    }
    names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

json::Json IpamFor(const DefaultNetworkOptions& options) {
  json::Json ranges = json::Json::array();
  json::Json routes = json::Json::array();
  ranges.push_back(json::Json::array({{{"subnet", options.subnet}}}));
  routes.push_back({{"dst", "0.0.0.0/0"}});
  if (!options.ipv6_subnet.empty()) {
    ranges.push_back(json::Json::array({{{"subnet", options.ipv6_subnet}}}));
    routes.push_back({{"dst", "::/0"}});
  }
  return {{"type", "host-local"}, {"ranges", ranges}, {"routes", routes}};
}

}  // namespace

NetworkConfig DefaultNetwork(const DefaultNetworkOptions& options) {
  NetworkConfig config;
  config.name = std::string(kDefaultNetworkName);
  config.cni_version = "1.0.0";
  config.source = "built-in";
  PluginConfig bridge;
  bridge.type = "bridge";
  bridge.object = {{"type", "bridge"}, {"bridge", options.bridge}, {"isGateway", true},
                   {"ipMasq", true},   {"hairpinMode", true},      {"ipam", IpamFor(options)}};
  PluginConfig portmap;
  portmap.type = "portmap";
  portmap.capabilities = {"portMappings"};
  portmap.object = {
      {"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}};
  PluginConfig firewall;
  firewall.type = "firewall";
  firewall.object = {{"type", "firewall"}};
  config.plugins = {std::move(bridge), std::move(portmap), std::move(firewall)};
  return config;
}

bool IsReservedNetworkName(std::string_view name) {
  return name == "none" || name == "host" || name == "all";
}

const NetworkConfig* NetworkCatalog::Find(std::string_view name) const {
  for (const NetworkConfig& config : networks) {
    if (config.name == name) {
      return &config;
    }
  }
  return nullptr;
}

Result<NetworkCatalog> LoadNetworks(const std::string& dir, const DefaultNetworkOptions& defaults) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ConfigFiles(dir));
  NetworkCatalog catalog;
  std::map<std::string, std::string> defined_in;  // network name -> file
  for (const std::string& name : names) {
    std::string path = os::JoinPath(dir, name);
    ASSIGN_OR_RETURN(NetworkConfig config, LoadNetworkConfigFile(path));
    if (IsReservedNetworkName(config.name)) {
      return Err(Error::Invalid(
          fmt::format("network config {}: name: \"{}\" is reserved (--net={} has its own meaning)",
                      path, config.name, config.name)));
    }
    auto [it, inserted] = defined_in.emplace(config.name, path);
    if (!inserted) {
      return Err(Error::Invalid(fmt::format("network {} is defined twice: in {} and in {}",
                                            config.name, it->second, path)));
    }
    catalog.networks.push_back(std::move(config));
  }
  if (!defined_in.contains(std::string(kDefaultNetworkName))) {
    catalog.networks.insert(catalog.networks.begin(), DefaultNetwork(defaults));
  }
  return catalog;
}

}  // namespace comet::network
