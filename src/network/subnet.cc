// IP prefix parsing and the subnet overlap check; see subnet.h.
#include "network/subnet.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::network {

Result<IpPrefix> ParsePrefix(std::string_view cidr) {
  size_t slash = cidr.find('/');
  auto bad = [&] {
    return Err(Error::Invalid(
        fmt::format("invalid subnet \"{}\" (want ADDRESS/LENGTH)", Printable(cidr, 64))));
  };
  if (slash == std::string_view::npos || cidr.size() > 64) {
    return bad();
  }
  std::string address(cidr.substr(0, slash));
  std::optional<long long> length = ParseInt(cidr.substr(slash + 1));
  IpPrefix prefix;
  if (::inet_pton(AF_INET, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = AF_INET;
  } else if (::inet_pton(AF_INET6, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = AF_INET6;
  } else {
    return bad();
  }
  int max = prefix.family == AF_INET ? 32 : 128;
  if (!length || *length < 0 || *length > max) {
    return bad();
  }
  prefix.length = static_cast<int>(*length);
  return prefix;
}

bool Overlaps(const IpPrefix& a, const IpPrefix& b) {
  if (a.family != b.family) {
    return false;
  }
  // Two prefixes overlap when they agree on the bits of the shorter one.
  int bits = a.length < b.length ? a.length : b.length;
  for (int i = 0; i < bits; ++i) {
    int shift = 7 - (i % 8);
    auto byte = static_cast<size_t>(i / 8);
    if (((a.address[byte] >> shift) & 1) != ((b.address[byte] >> shift) & 1)) {
      return false;
    }
  }
  return true;
}

namespace {

void CollectIpam(const json::Json& ipam, std::vector<std::string>* out) {
  if (const json::Json* subnet = json::Member(ipam, "subnet"); subnet && subnet->is_string()) {
    out->push_back(subnet->get<std::string>());
  }
  const json::Json* ranges = json::Member(ipam, "ranges");
  if (ranges == nullptr || !ranges->is_array()) {
    return;
  }
  for (const json::Json& set : *ranges) {
    if (!set.is_array()) {
      continue;
    }
    for (const json::Json& range : set) {
      if (!range.is_object()) {
        continue;
      }
      if (const json::Json* subnet = json::Member(range, "subnet"); subnet && subnet->is_string()) {
        out->push_back(subnet->get<std::string>());
      }
    }
  }
}

}  // namespace

std::vector<std::string> HostLocalSubnets(const NetworkConfig& config) {
  std::vector<std::string> subnets;
  for (const PluginConfig& plugin : config.plugins) {
    const json::Json* ipam = json::Member(plugin.object, "ipam");
    if (ipam == nullptr || !ipam->is_object()) {
      continue;
    }
    const json::Json* type = json::Member(*ipam, "type");
    if (type != nullptr && *type == "host-local") {
      CollectIpam(*ipam, &subnets);
    }
  }
  return subnets;
}

Status CheckSubnetOverlap(const std::vector<const NetworkConfig*>& networks) {
  struct Entry {
    const NetworkConfig* network;
    std::string text;
    IpPrefix prefix;
  };
  std::vector<Entry> entries;
  for (const NetworkConfig* network : networks) {
    for (std::string& text : HostLocalSubnets(*network)) {
      auto prefix = ParsePrefix(text);
      if (!prefix) {
        return Err(std::move(prefix).error().AddContext(fmt::format("network {}", network->name)));
      }
      for (const Entry& seen : entries) {
        if (seen.network != network && Overlaps(seen.prefix, *prefix)) {
          return Err(
              Error::Invalid(fmt::format("network {} subnet {} overlaps network {} subnet {}",
                                         seen.network->name, seen.text, network->name, text)));
        }
      }
      entries.push_back({network, std::move(text), *prefix});
    }
  }
  return Ok();
}

}  // namespace comet::network
