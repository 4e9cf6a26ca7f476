// Parsing of CNI ADD results; see cni_result.h.
#include "network/cni_result.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include "network/subnet.h"

namespace comet::network {

namespace {

constexpr json::Wording kWording = json::Wording::kNamesType;
constexpr size_t kMaxEntries = 256;

Status CheckCount(const std::vector<const json::Json*>& items, std::string_view field) {
  if (items.size() > kMaxEntries) {
    return Err(Error::Invalid(fmt::format("{}: more than {} entries", field, kMaxEntries)));
  }
  return Ok();
}

Result<CniIpConfig> ParseIp(const json::Json& object, const std::string& path) {
  json::ObjectReader reader(object, path, kWording);
  CniIpConfig ip;
  std::string version;
  RETURN_IF_ERROR(json::ReadRequired(object, "address", path, &ip.address, kWording));
  RETURN_IF_ERROR(reader.Read("version", &version));
  RETURN_IF_ERROR(reader.Read("gateway", &ip.gateway));
  RETURN_IF_ERROR(reader.Read("interface", &ip.interface));
  auto prefix = ParsePrefix(ip.address);
  if (!prefix) {
    return Err(std::move(prefix).error().AddContext(reader.PathOf("address")));
  }
  ip.version = prefix->family == AF_INET ? 4 : 6;
  if (!version.empty() && version != std::to_string(ip.version)) {
    return Err(json::PathError(reader.PathOf("version"),
                               fmt::format("\"{}\" does not match the address", version)));
  }
  return ip;
}

Status ParseLists(const json::ObjectReader& reader, CniResult* result) {
  std::vector<const json::Json*> items;
  RETURN_IF_ERROR(reader.ObjectArray("interfaces", &items));
  RETURN_IF_ERROR(CheckCount(items, "interfaces"));
  for (size_t i = 0; i < items.size(); ++i) {
    json::ObjectReader item(*items[i], json::IndexPath("interfaces", i), kWording);
    CniInterface iface;
    RETURN_IF_ERROR(item.Read("name", &iface.name));
    RETURN_IF_ERROR(item.Read("mac", &iface.mac));
    RETURN_IF_ERROR(item.Read("sandbox", &iface.sandbox));
    result->interfaces.push_back(std::move(iface));
  }
  RETURN_IF_ERROR(reader.ObjectArray("ips", &items));
  RETURN_IF_ERROR(CheckCount(items, "ips"));
  for (size_t i = 0; i < items.size(); ++i) {
    ASSIGN_OR_RETURN(CniIpConfig ip, ParseIp(*items[i], json::IndexPath("ips", i)));
    result->ips.push_back(std::move(ip));
  }
  RETURN_IF_ERROR(reader.ObjectArray("routes", &items));
  RETURN_IF_ERROR(CheckCount(items, "routes"));
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = json::IndexPath("routes", i);
    CniRoute route;
    RETURN_IF_ERROR(json::ReadRequired(*items[i], "dst", path, &route.dst, kWording));
    RETURN_IF_ERROR(json::Read(*items[i], "gw", path, &route.gw, kWording));
    result->routes.push_back(std::move(route));
  }
  return Ok();
}

}  // namespace

const CniIpConfig* CniResult::FirstIp(int version, std::string_view ifname) const {
  for (const CniIpConfig& ip : ips) {
    if (ip.version != version) {
      continue;
    }
    if (!ip.interface || *ip.interface >= interfaces.size() ||
        interfaces[*ip.interface].name == ifname) {
      return &ip;
    }
  }
  return nullptr;
}

Result<CniResult> ParseCniResult(const json::Json& value) {
  RETURN_IF_ERROR(json::ExpectObject(value, "", kWording));
  json::ObjectReader reader(value, "", kWording);
  CniResult result;
  RETURN_IF_ERROR(reader.Read("cniVersion", &result.cni_version));
  RETURN_IF_ERROR(ParseLists(reader, &result));
  ASSIGN_OR_RETURN(const json::Json* dns, reader.Object("dns"));
  if (dns != nullptr) {
    json::ObjectReader dns_reader(*dns, "dns", kWording);
    RETURN_IF_ERROR(dns_reader.Read("nameservers", &result.dns.nameservers));
    RETURN_IF_ERROR(dns_reader.Read("domain", &result.dns.domain));
    RETURN_IF_ERROR(dns_reader.Read("search", &result.dns.search));
    RETURN_IF_ERROR(dns_reader.Read("options", &result.dns.options));
  }
  return result;
}

}  // namespace comet::network
