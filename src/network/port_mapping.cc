// Published ports: portmap entries and the free-port check; see port_mapping.h.
#include "network/port_mapping.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/unique_fd.h"

namespace comet::network {

std::string HostSide(const PortMapping& mapping) {
  if (mapping.host_ip.empty()) {
    return fmt::format("{}/{}", mapping.host_port, mapping.protocol);
  }
  bool v6 = mapping.host_ip.find(':') != std::string::npos;
  if (v6) {
    return fmt::format("[{}]:{}/{}", mapping.host_ip, mapping.host_port, mapping.protocol);
  }
  return fmt::format("{}:{}/{}", mapping.host_ip, mapping.host_port, mapping.protocol);
}

json::Json PortMappingsJson(const std::vector<PortMapping>& mappings) {
  json::Json list = json::Json::array();
  for (const PortMapping& m : mappings) {
    json::Json entry = {
        {"hostPort", m.host_port}, {"containerPort", m.container_port}, {"protocol", m.protocol}};
    if (!m.host_ip.empty()) {
      entry["hostIP"] = m.host_ip;
    }
    list.push_back(std::move(entry));
  }
  return list;
}

Result<std::vector<PortMapping>> ParsePortMappingsJson(const json::Json& value) {
  constexpr json::Wording kWording = json::Wording::kNamesType;
  if (!value.is_array()) {
    return Err(json::TypeError("portMappings", "array", value, kWording));
  }
  std::vector<PortMapping> mappings;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string path = json::IndexPath("portMappings", i);
    RETURN_IF_ERROR(json::ExpectObject(value[i], path, kWording));
    PortMapping m;
    RETURN_IF_ERROR(json::ReadRequired(value[i], "hostPort", path, &m.host_port, kWording));
    RETURN_IF_ERROR(
        json::ReadRequired(value[i], "containerPort", path, &m.container_port, kWording));
    RETURN_IF_ERROR(json::Read(value[i], "protocol", path, &m.protocol, kWording));
    RETURN_IF_ERROR(json::Read(value[i], "hostIP", path, &m.host_ip, kWording));
    mappings.push_back(std::move(m));
  }
  return mappings;
}

namespace {

Result<os::UniqueFd> Reserve(const PortMapping& m) {
  bool v6 = m.host_ip.find(':') != std::string::npos;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(m.host_port);
    if (::inet_pton(AF_INET6, m.host_ip.c_str(), &sin6->sin6_addr) != 1) {
      return Err(Error::Invalid(
          fmt::format("published port {}: {:?} is not an IPv6 address", HostSide(m), m.host_ip)));
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(m.host_port);
    if (m.host_ip.empty()) {
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (::inet_pton(AF_INET, m.host_ip.c_str(), &sin->sin_addr) != 1) {
      return Err(Error::Invalid(
          fmt::format("published port {}: {:?} is not an IPv4 address", HostSide(m), m.host_ip)));
    }
    length = sizeof(sockaddr_in);
  }
  int type = m.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  os::UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) {
    return Err(Error::FromErrno("socket", HostSide(m)));
  }
  int one = 1;
  if (type == SOCK_STREAM) {
    // A connection in TIME_WAIT does not make the port taken; a listener still does.
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) == 0 &&
      (type != SOCK_STREAM || ::listen(fd.get(), 1) == 0)) {
    return fd;
  }
  std::string where = m.host_ip.empty() ? "0.0.0.0" : m.host_ip;
  if (errno == EADDRINUSE) {
    return Err(Error(EADDRINUSE, fmt::format("port {}/{} on {} is already in use", m.host_port,
                                             m.protocol, where)));
  }
  if (errno == EADDRNOTAVAIL) {
    return Err(Error(EADDRNOTAVAIL,
                     fmt::format("host address {} of port {}/{} is not an address of this host",
                                 where, m.host_port, m.protocol)));
  }
  return Err(
      Error::FromErrno("bind", fmt::format("port {}/{} on {}", m.host_port, m.protocol, where)));
}

}  // namespace

Result<std::vector<os::UniqueFd>> ReserveHostPorts(const std::vector<PortMapping>& mappings) {
  std::vector<os::UniqueFd> held;
  for (size_t i = 0; i < mappings.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const PortMapping& a = mappings[i];
      const PortMapping& b = mappings[j];
      bool same_ip = a.host_ip == b.host_ip || a.host_ip.empty() || b.host_ip.empty();
      if (a.host_port == b.host_port && a.protocol == b.protocol && same_ip) {
        return Err(Error::Invalid(fmt::format("port {} is published twice", HostSide(a))));
      }
    }
    ASSIGN_OR_RETURN(os::UniqueFd fd, Reserve(mappings[i]));
    held.push_back(std::move(fd));
  }
  return held;
}

Status CheckHostPortsFree(const std::vector<PortMapping>& mappings) {
  ASSIGN_OR_RETURN(std::vector<os::UniqueFd> held, ReserveHostPorts(mappings));
  return Ok();
}

}  // namespace comet::network
