// The pod manifest's network fields (net, networks, netns, ports, hosts_entries): their JSON form
// and their checks. See manifest.h. Thread-safe (pure functions).
#include <set>
#include <string>
#include <tuple>

#include <fmt/format.h>

#include "base/enum_names.h"
#include "base/strings.h"
#include "network/cni_config.h"
#include "pod/json_fields.h"
#include "pod/manifest.h"
#include "pod/manifest_json.h"

namespace comet::pod::internal {
namespace {

constexpr EnumName<NetMode> kNetModes[] = {{NetMode::kNone, "none"},
                                           {NetMode::kHost, "host"},
                                           {NetMode::kNetworks, "networks"},
                                           {NetMode::kNetns, "netns"}};

constexpr uint32_t kMaxPort = 65535;
constexpr size_t kMaxPortName = 64;

OrderedJson PortToJson(const PortMapping& p) {
  return {{"name", p.name},
          {"host_ip", p.host_ip},
          {"host_port", p.host_port},
          {"pod_port", p.pod_port},
          {"protocol", p.protocol}};
}

Status ParsePorts(const ObjectReader& r, std::vector<PortMapping>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("ports", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader p(*items[i], IndexPath(r.PathOf("ports"), i));
    PortMapping port;
    RETURN_IF_ERROR(p.String("name", &port.name));
    RETURN_IF_ERROR(p.String("host_ip", &port.host_ip));
    RETURN_IF_ERROR(p.Uint32("host_port", &port.host_port));
    RETURN_IF_ERROR(p.Uint32("pod_port", &port.pod_port));
    RETURN_IF_ERROR(p.String("protocol", &port.protocol));
    out->push_back(std::move(port));
  }
  return Ok();
}

Status ParseHostsEntries(const ObjectReader& r, std::vector<HostsEntry>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("hosts_entries", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader e(*items[i], IndexPath(r.PathOf("hosts_entries"), i));
    HostsEntry entry;
    RETURN_IF_ERROR(e.String("ip", &entry.ip));
    RETURN_IF_ERROR(e.StringArray("names", &entry.names));
    out->push_back(std::move(entry));
  }
  return Ok();
}

Status ValidateMode(const PodManifest& m) {
  if (m.net == NetMode::kNetworks && m.networks.empty()) {
    return Err(PathError("networks", "a pod on contained networks needs at least one network"));
  }
  if (m.net != NetMode::kNetworks && !m.networks.empty()) {
    return Err(PathError("networks", fmt::format(R"(only with net "networks", not "{}")",
                                                 NameOf(kNetModes, m.net))));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < m.networks.size(); ++i) {
    if (Status valid = network::ValidateNetworkName(m.networks[i]); !valid) {
      return Err(PathError(IndexPath("networks", i), valid.error().message()));
    }
    if (!seen.insert(m.networks[i]).second) {
      return Err(PathError(IndexPath("networks", i),
                           fmt::format("\"{}\": network listed twice", m.networks[i])));
    }
  }
  if (m.net == NetMode::kNetns && !IsCleanAbsolutePath(m.netns)) {
    return Err(PathError("netns", fmt::format(R"("{}": must be an absolute path without "..")",
                                              Printable(m.netns))));
  }
  if (m.net != NetMode::kNetns && !m.netns.empty()) {
    return Err(PathError("netns", "only with net \"netns\""));
  }
  return Ok();
}

Status ValidatePort(const PortMapping& p, const std::string& path) {
  if (p.host_port == 0 || p.host_port > kMaxPort) {
    return Err(PathError(ChildPath(path, "host_port"),
                         fmt::format("{}: expected a port in 1-{}", p.host_port, kMaxPort)));
  }
  if (p.pod_port == 0 || p.pod_port > kMaxPort) {
    return Err(PathError(ChildPath(path, "pod_port"),
                         fmt::format("{}: expected a port in 1-{}", p.pod_port, kMaxPort)));
  }
  if (p.protocol != "tcp" && p.protocol != "udp") {
    return Err(PathError(ChildPath(path, "protocol"),
                         fmt::format(R"("{}": expected "tcp" or "udp")", Printable(p.protocol))));
  }
  if (!p.host_ip.empty() && !IsIpAddress(p.host_ip)) {
    return Err(PathError(ChildPath(path, "host_ip"),
                         fmt::format("\"{}\": not an IP address", Printable(p.host_ip))));
  }
  if (HasControlChars(p.name) || p.name.size() > kMaxPortName) {
    return Err(PathError(ChildPath(path, "name"), "not a port name"));
  }
  return Ok();
}

Status ValidatePorts(const PodManifest& m) {
  if (!m.ports.empty() && m.net != NetMode::kNetworks) {
    return Err(PathError("ports", fmt::format("published ports need contained networks (net "
                                              "\"networks\"), not net \"{}\"",
                                              NameOf(kNetModes, m.net))));
  }
  std::set<std::tuple<std::string, uint32_t, std::string>> published;
  for (size_t i = 0; i < m.ports.size(); ++i) {
    const std::string path = IndexPath("ports", i);
    const PortMapping& p = m.ports[i];
    RETURN_IF_ERROR(ValidatePort(p, path));
    if (!published.emplace(p.host_ip, p.host_port, p.protocol).second) {
      return Err(PathError(ChildPath(path, "host_port"),
                           fmt::format("{}/{} on {} is published twice", p.host_port, p.protocol,
                                       p.host_ip.empty() ? "every address" : p.host_ip)));
    }
  }
  return Ok();
}

Status ValidateHostsEntries(const PodManifest& m) {
  for (size_t i = 0; i < m.hosts_entries.size(); ++i) {
    const std::string path = IndexPath("hosts_entries", i);
    const HostsEntry& e = m.hosts_entries[i];
    if (!IsIpAddress(e.ip)) {
      return Err(PathError(ChildPath(path, "ip"),
                           fmt::format("\"{}\": not an IP address", Printable(e.ip))));
    }
    if (e.names.empty()) {
      return Err(PathError(ChildPath(path, "names"), "needs at least one host name"));
    }
    for (size_t j = 0; j < e.names.size(); ++j) {
      if (!IsHostname(e.names[j])) {
        return Err(PathError(IndexPath(ChildPath(path, "names"), j),
                             fmt::format("\"{}\": not a valid host name", Printable(e.names[j]))));
      }
    }
  }
  return Ok();
}

}  // namespace

void AddNetFields(const PodManifest& m, OrderedJson& out) {
  out["net"] = NameOf(kNetModes, m.net);
  out["networks"] = m.networks;
  out["netns"] = m.netns;
  OrderedJson ports = OrderedJson::array();
  for (const PortMapping& p : m.ports) {
    ports.push_back(PortToJson(p));
  }
  out["ports"] = std::move(ports);
  OrderedJson hosts = OrderedJson::array();
  for (const HostsEntry& e : m.hosts_entries) {
    hosts.push_back({{"ip", e.ip}, {"names", e.names}});
  }
  out["hosts_entries"] = std::move(hosts);
}

Status ParseNetFields(const ObjectReader& r, PodManifest* m) {
  std::string net;
  RETURN_IF_ERROR(r.String("net", &net));
  if (net.empty()) {
    m->net = NetMode::kNone;
  } else if (auto mode = ValueOf(kNetModes, net); mode) {
    m->net = *mode;
  } else {
    return Err(PathError("net", fmt::format(R"("{}": expected "none", "host", "networks" or )"
                                            R"("netns")",
                                            Printable(net))));
  }
  RETURN_IF_ERROR(r.StringArray("networks", &m->networks));
  RETURN_IF_ERROR(r.String("netns", &m->netns));
  RETURN_IF_ERROR(ParsePorts(r, &m->ports));
  return ParseHostsEntries(r, &m->hosts_entries);
}

Status ValidateNetFields(const PodManifest& m) {
  RETURN_IF_ERROR(ValidateMode(m));
  RETURN_IF_ERROR(ValidatePorts(m));
  return ValidateHostsEntries(m);
}

}  // namespace comet::pod::internal
