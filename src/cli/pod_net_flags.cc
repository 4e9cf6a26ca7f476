// --net, --port and --hosts-entry; see pod_net_flags.h. Pure, thread-safe.
#include "cli/pod_net_flags.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::cli {
namespace {

constexpr uint32_t kMaxPort = 65535;

bool IsIp(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::optional<uint32_t> ParsePort(std::string_view text) {
  std::optional<unsigned long long> value = ParseUint(text);
  if (!value || *value < 1 || *value > kMaxPort) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);
}

// "[HOSTIP:]HOSTPORT" (HOSTIP: dotted, or an IPv6 address in brackets) into the mapping.
Status ParseHostSide(std::string_view text, std::string_view flag, pod::PortMapping& out) {
  std::string_view port = text;
  if (StartsWith(text, "[")) {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) {
      return Err(Error::Invalid(fmt::format("--port {:?}: expected [IPV6]:HOSTPORT", flag)));
    }
    out.host_ip = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    out.host_ip = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (out.host_ip.find(':') != std::string::npos) {
      return Err(Error::Invalid(
          fmt::format("--port {:?}: an IPv6 host address is written [ADDRESS]:HOSTPORT", flag)));
    }
  }
  if (!out.host_ip.empty() && !IsIp(out.host_ip)) {
    return Err(Error::Invalid(
        fmt::format("--port {:?}: {:?} is not an IP address of the host", flag, out.host_ip)));
  }
  std::optional<uint32_t> host_port = ParsePort(port);
  if (!host_port) {
    return Err(Error::Invalid(
        fmt::format("--port {:?}: {:?} is not a port number (1-{})", flag, port, kMaxPort)));
  }
  out.host_port = *host_port;
  return Ok();
}

constexpr size_t kMaxPortName = 64;

// rkt's port names (appc's): an image port's "<port>-<protocol>" as rkt named docker images'
// ports, or a name such as "http": lowercase letters, digits and inner '-', '.', '_', not a
// number, not an address.
bool LooksLikePortName(std::string_view field) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (field.empty() || field.size() > kMaxPortName || !alnum(field.front()) ||
      !alnum(field.back()) || ParseUint(field) || IsIp(std::string(field))) {
    return false;
  }
  return std::all_of(field.begin(), field.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.' || c == '_'; });
}

}  // namespace

Status ApplyNetFlag(std::string_view value, pod::PodManifest& pod) {
  pod.networks.clear();
  pod.netns.clear();
  if (value == "none") {
    pod.net = pod::NetMode::kNone;
  } else if (value == "host") {
    pod.net = pod::NetMode::kHost;
  } else if (StartsWith(value, "ns:")) {
    pod.net = pod::NetMode::kNetns;
    pod.netns = std::string(value.substr(3));
    if (pod.netns.empty() || pod.netns.front() != '/') {
      return Err(Error::Invalid(
          fmt::format("--net {:?}: ns: needs the absolute path of a network namespace", value)));
    }
  } else {
    pod.net = pod::NetMode::kNetworks;
    for (const std::string& name : Split(value, ',')) {
      if (name.empty()) {
        return Err(Error::Invalid(fmt::format(
            "--net {:?}: expected none, host, ns:PATH or network names separated by commas",
            value)));
      }
      pod.networks.push_back(name);
    }
  }
  return Ok();
}

Result<pod::PortMapping> ParsePortFlag(std::string_view text) {
  pod::PortMapping out;
  std::string_view rest = text;
  if (const size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    out.protocol = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (out.protocol != "tcp" && out.protocol != "udp") {
      return Err(Error::Invalid(
          fmt::format("--port {:?}: protocol {:?}: expected tcp or udp", text, out.protocol)));
    }
  }
  const size_t first_colon = rest.find(':');
  if (first_colon == std::string_view::npos) {
    return Err(Error::Invalid(fmt::format(
        "--port {:?}: expected [HOSTIP:]HOSTPORT:PODPORT[/PROTOCOL] or NAME:[HOSTIP:]HOSTPORT",
        text)));
  }
  if (LooksLikePortName(rest.substr(0, first_colon))) {
    if (text.find('/') != std::string_view::npos) {
      return Err(Error::Invalid(fmt::format(
          "--port {:?}: a named port takes its protocol from the image (no /PROTOCOL)", text)));
    }
    out.name = std::string(rest.substr(0, first_colon));
    RETURN_IF_ERROR(ParseHostSide(rest.substr(first_colon + 1), text, out));
    return out;
  }
  const size_t last_colon = rest.rfind(':');
  std::optional<uint32_t> pod_port = ParsePort(rest.substr(last_colon + 1));
  if (!pod_port) {
    return Err(Error::Invalid(fmt::format("--port {:?}: {:?} is not a port number (1-{})", text,
                                          rest.substr(last_colon + 1), kMaxPort)));
  }
  out.pod_port = *pod_port;
  RETURN_IF_ERROR(ParseHostSide(rest.substr(0, last_colon), text, out));
  return out;
}

Result<pod::HostsEntry> ParseHostsEntryFlag(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return Err(Error::Invalid(fmt::format("--hosts-entry {:?}: expected IP=HOSTNAME", text)));
  }
  pod::HostsEntry entry;
  entry.ip = std::string(text.substr(0, eq));
  if (!IsIp(entry.ip)) {
    return Err(Error::Invalid(
        fmt::format("--hosts-entry {:?}: {:?} is not an IP address", text, entry.ip)));
  }
  entry.names = Split(text.substr(eq + 1), ',');
  return entry;
}

std::vector<ExposedPort> NamedExposedPorts(const std::vector<std::string>& exposed) {
  std::vector<ExposedPort> out;
  for (const std::string& spec : exposed) {
    const size_t slash = spec.find('/');
    std::optional<uint32_t> port = ParsePort(std::string_view(spec).substr(0, slash));
    std::string protocol = slash == std::string::npos ? "tcp" : spec.substr(slash + 1);
    if (!port || (protocol != "tcp" && protocol != "udp")) {
      continue;  // not a port a pod can publish
    }
    out.push_back({fmt::format("{}-{}", *port, protocol), *port, protocol});
  }
  return out;
}

Status ResolveNamedPorts(std::vector<pod::PortMapping>& ports,
                         const std::vector<ExposedPort>& exposed) {
  for (pod::PortMapping& mapping : ports) {
    if (mapping.name.empty() || mapping.pod_port != 0) {
      continue;
    }
    const ExposedPort* found = nullptr;
    for (const ExposedPort& port : exposed) {
      if (port.name == mapping.name) {
        found = &port;
        break;
      }
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      names.reserve(exposed.size());
      for (const ExposedPort& port : exposed) {
        names.push_back(port.name);
      }
      return Err(Error::Invalid(
          fmt::format("--port {}:{}: no image of the pod exposes a port named {:?} ({})",
                      mapping.name, mapping.host_port, mapping.name,
                      names.empty() ? "they expose none" : "exposed: " + Join(names, ", "))));
    }
    mapping.pod_port = found->port;
    mapping.protocol = found->protocol;
  }
  return Ok();
}

}  // namespace comet::cli
