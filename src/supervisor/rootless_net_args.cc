// The pure parts of a rootless pod's network (rootless_net.h): the tools' command lines,
// slirp4netns's api requests, the pod's resolv.conf and its network record. Thread-safe.
#include <fmt/format.h>

#include "pod/pod_networks.h"
#include "supervisor/rootless_net.h"

namespace comet::supervisor {
namespace {

// slirp4netns's fixed network (podman's): the pod at .100, the gateway .2, DNS .3.
constexpr const char* kSlirpDns = "10.0.2.3";

// "0.0.0.0/8080:80" for pasta's -t/-u (an IPv6 address needs no brackets there).
std::string PastaSpec(const pod::PortMapping& port) {
  std::string spec = port.host_ip.empty() ? "" : port.host_ip + "/";
  return spec + fmt::format("{}:{}", port.host_port, port.pod_port);
}

std::string PastaPorts(const std::vector<pod::PortMapping>& ports, const char* protocol) {
  std::vector<std::string> specs;
  for (const pod::PortMapping& port : ports) {
    if (port.protocol == protocol) {
      specs.push_back(PastaSpec(port));
    }
  }
  return specs.empty() ? "none" : Join(specs, ",");
}

}  // namespace

std::vector<std::string> RootlessNetArgv(const RootlessNetTool& tool,
                                         const std::vector<pod::PortMapping>& ports,
                                         const std::string& api_socket) {
  const std::string netns = fmt::format("/proc/self/fd/{}", kHelperNetnsFd);
  if (tool.kind == RootlessNetKind::kPasta) {
    // podman's defaults: the host's addresses and routes copied (--config-net), only the
    // published ports forwarded in, none from the pod to the host's loopback, and the gateway
    // address not mapped to the host. The "PID file" is the readiness pipe.
    return {"pasta",
            "--config-net",
            "--foreground",
            "--quiet",
            "--stderr",
            "--no-map-gw",
            "--no-netns-quit",
            "-t",
            PastaPorts(ports, "tcp"),
            "-u",
            PastaPorts(ports, "udp"),
            "-T",
            "none",
            "-U",
            "none",
            "--pid",
            fmt::format("/proc/self/fd/{}", kHelperReadyFd),
            "--netns",
            netns};
  }
  return {"slirp4netns",
          "--configure",
          "--mtu=65520",
          "--disable-host-loopback",
          "--enable-sandbox",
          "--enable-seccomp",
          fmt::format("--ready-fd={}", kHelperReadyFd),
          fmt::format("--exit-fd={}", kHelperExitFd),
          "--api-socket",
          api_socket,
          "--netns-type=path",
          netns,
          "tap0"};
}

json::Json SlirpHostFwdRequest(const pod::PortMapping& port) {
  json::Json arguments = {{"proto", port.protocol},
                          {"host_addr", port.host_ip.empty() ? "0.0.0.0" : port.host_ip},
                          {"host_port", port.host_port},
                          {"guest_port", port.pod_port}};
  return {{"execute", "add_hostfwd"}, {"arguments", std::move(arguments)}};
}

Status CheckSlirpReply(std::string_view reply) {
  json::Json parsed = json::Json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Err(Error::Invalid(
        fmt::format("slirp4netns: unexpected api answer \"{}\"", Printable(reply, 200))));
  }
  if (const auto error = parsed.find("error"); error != parsed.end()) {
    std::string desc = error->is_object() && error->contains("desc") && (*error)["desc"].is_string()
                           ? (*error)["desc"].get<std::string>()
                           : error->dump();
    return Err(Error::Invalid("slirp4netns: " + Printable(desc, 200)));
  }
  if (!parsed.contains("return")) {
    return Err(Error::Invalid(
        fmt::format("slirp4netns: unexpected api answer \"{}\"", Printable(reply, 200))));
  }
  return Ok();
}

std::string RootlessResolvConf(RootlessNetKind kind, const std::string& host_resolv) {
  std::string out = kind == RootlessNetKind::kSlirp4netns
                        ? fmt::format("nameserver {}\n", kSlirpDns)
                        : std::string();
  for (const std::string& line : Split(host_resolv, '\n')) {
    std::string_view words = TrimSpace(line);
    if (words.empty()) {
      continue;
    }
    if (StartsWith(words, "nameserver") && words.size() > 10 &&
        (words[10] == ' ' || words[10] == '\t')) {
      std::string_view server = TrimSpace(words.substr(10));
      server = server.substr(0, server.find_first_of(" \t"));
      if (StartsWith(server, "127.") || server == "::1") {
        continue;  // the host's own resolver, unreachable from the pod
      }
    }
    out += std::string(words) + "\n";
  }
  return out;
}

Result<network::NetworkAttachment> RootlessNetRecord(RootlessNetKind kind, const std::string& uuid,
                                                     const std::string& ifname,
                                                     const std::string& ipv4_cidr,
                                                     const std::string& gateway4,
                                                     const std::string& ipv6_cidr) {
  network::NetworkAttachment record;
  record.network = "default";
  record.invocation.container_id = uuid;
  record.invocation.ifname = ifname;
  const char* tool = RootlessNetToolName(kind);
  record.config = {{"cniVersion", "1.0.0"},
                   {"name", "default"},
                   {pod::kRootlessToolKey, tool},
                   {"plugins", json::Json::array({{{"type", tool}}})}};
  json::Json ips = json::Json::array();
  json::Json ip4 = {{"address", ipv4_cidr}, {"interface", 0}};
  if (!gateway4.empty()) {
    ip4["gateway"] = gateway4;
  }
  ips.push_back(std::move(ip4));
  if (!ipv6_cidr.empty()) {
    ips.push_back({{"address", ipv6_cidr}, {"interface", 0}});
  }
  json::Json result = {{"cniVersion", "1.0.0"},
                       {"interfaces", json::Json::array({{{"name", ifname}}})},
                       {"ips", std::move(ips)}};
  if (kind == RootlessNetKind::kSlirp4netns) {
    result["dns"] = {{"nameservers", json::Json::array({kSlirpDns})}};
  }
  record.result = std::move(result);
  RETURN_IF_ERROR(network::Summarize(&record));
  return record;
}

}  // namespace comet::supervisor
