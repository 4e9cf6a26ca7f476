// ConvertDns, ParseResolvConf; see dns_convert.h.
#include "kube/dns_convert.h"

#include <arpa/inet.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "os/file.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::Indexed;

constexpr size_t kMaxResolvConfBytes = 1 << 20;
// Where systemd-resolved lists the servers behind its 127.0.0.53 stub.
constexpr const char* kResolvedUpstream = "/run/systemd/resolve/resolv.conf";

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  while (!(text = TrimSpace(text)).empty()) {
    const size_t end = text.find_first_of(" \t");
    words.emplace_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end);
  }
  return words;
}

bool IsIp(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool IsLoopback(std::string_view server) {
  return StartsWith(server, "127.") || server == "::1" || server == "0:0:0:0:0:0:0:1";
}

// A resolv.conf word: no blank or control byte (it would start a new option or line).
bool IsWord(std::string_view word) {
  return !word.empty() && word.size() <= 255 && std::none_of(word.begin(), word.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

void AppendUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) {
    list.push_back(item);
  }
}

std::string OptionName(const std::string& option) {
  return option.substr(0, option.find(':'));
}

// The host's resolvers as a pod would get them. In a network namespace of its own a loopback
// nameserver is unreachable, so those go, and behind systemd-resolved's stub its upstream
// servers are used (the supervisor does the same when it copies the host's file).
ResolvConf HostResolvers(const NodeInfo& node, bool host_network) {
  auto text = os::ReadFileLimited(node.resolv_conf, kMaxResolvConfBytes);
  if (!text) {
    return {};
  }
  ResolvConf host = ParseResolvConf(*text);
  if (host_network) {
    return host;
  }
  const bool stub = std::find(host.nameservers.begin(), host.nameservers.end(), "127.0.0.53") !=
                    host.nameservers.end();
  std::erase_if(host.nameservers, [](const std::string& s) { return IsLoopback(s); });
  if (host.nameservers.empty() && stub) {
    if (auto upstream = os::ReadFileLimited(kResolvedUpstream, kMaxResolvConfBytes)) {
      for (const std::string& server : ParseResolvConf(*upstream).nameservers) {
        if (!IsLoopback(server)) {
          host.nameservers.push_back(server);
        }
      }
    }
  }
  return host;
}

Status CheckConfig(const PodDnsConfig& config) {
  for (size_t i = 0; i < config.nameservers.size(); ++i) {
    if (!IsIp(config.nameservers[i])) {
      return Err(FieldError(
          Indexed("spec.dnsConfig.nameservers", i),
          fmt::format("\"{}\": not an IP address", Printable(config.nameservers[i], 100))));
    }
  }
  for (size_t i = 0; i < config.searches.size(); ++i) {
    if (!IsWord(config.searches[i])) {
      return Err(
          FieldError(Indexed("spec.dnsConfig.searches", i),
                     fmt::format("\"{}\": not a domain name", Printable(config.searches[i], 100))));
    }
  }
  for (size_t i = 0; i < config.options.size(); ++i) {
    const PodDnsConfigOption& option = config.options[i];
    if (!IsWord(option.name) || option.name.find(':') != std::string::npos ||
        (!option.value.empty() && !IsWord(option.value))) {
      return Err(
          FieldError(Indexed("spec.dnsConfig.options", i),
                     fmt::format("\"{}\": not a resolver option", Printable(option.name, 100))));
    }
  }
  return Ok();
}

// `config` over `base`, as the kubelet's appendDNSConfig.
void Merge(const PodDnsConfig& config, ResolvConf& base) {
  for (const std::string& server : config.nameservers) {
    AppendUnique(base.nameservers, server);
  }
  for (const std::string& search : config.searches) {
    AppendUnique(base.searches, search);
  }
  for (const PodDnsConfigOption& option : config.options) {
    std::string text = option.value.empty() ? option.name : option.name + ":" + option.value;
    auto same = std::find_if(base.options.begin(), base.options.end(),
                             [&](const std::string& o) { return OptionName(o) == option.name; });
    if (same != base.options.end()) {
      *same = std::move(text);
    } else {
      base.options.push_back(std::move(text));
    }
  }
}

}  // namespace

ResolvConf ParseResolvConf(std::string_view text) {
  ResolvConf out;
  for (const std::string& line : Split(text, '\n')) {
    std::string_view content = line;
    content = content.substr(0, content.find_first_of("#;"));
    std::vector<std::string> words = Words(content);
    if (words.size() < 2) {
      continue;
    }
    const std::string keyword = words.front();
    words.erase(words.begin());
    if (keyword == "nameserver") {
      out.nameservers.push_back(words.front());
    } else if (keyword == "search" || keyword == "domain") {
      out.searches = keyword == "search" ? words : std::vector<std::string>{words.front()};
    } else if (keyword == "options") {
      for (std::string& option : words) {
        out.options.push_back(std::move(option));
      }
    }
  }
  return out;
}

Status ConvertDns(const PodSpec& spec, const NodeInfo& node, pod::PodManifest* manifest,
                  std::vector<std::string>* warnings) {
  const std::string policy = spec.dns_policy.empty() ? "ClusterFirst" : spec.dns_policy;
  if (spec.dns_config) {
    RETURN_IF_ERROR(CheckConfig(*spec.dns_config));
  }
  ResolvConf resolv;
  if (policy == "None") {
    if (!spec.dns_config) {
      return Err(FieldError("spec.dnsConfig", "required with dnsPolicy None"));
    }
  } else if (policy == "Default" || policy == "ClusterFirst" ||
             policy == "ClusterFirstWithHostNet") {
    // ClusterFirst on the host's network is Default for the kubelet too: no warning then.
    if (policy == "ClusterFirstWithHostNet" || (policy == "ClusterFirst" && !spec.host_network)) {
      warnings->push_back(fmt::format(
          "dnsPolicy {}: no cluster DNS on this node, using the host's resolvers", policy));
    }
    if (!spec.dns_config) {
      return Ok();  // the supervisor gives the pod the host's resolv.conf
    }
    resolv = HostResolvers(node, spec.host_network);
  } else {
    return Err(FieldError("spec.dnsPolicy", fmt::format("\"{}\": unknown (want ClusterFirst, "
                                                        "ClusterFirstWithHostNet, Default or None)",
                                                        Printable(policy, 64))));
  }
  if (spec.dns_config) {
    Merge(*spec.dns_config, resolv);
  }
  if (resolv.nameservers.size() > kMaxDnsNameservers) {
    warnings->push_back(fmt::format(
        "spec.dnsConfig: more than {} nameservers, kept {}", kMaxDnsNameservers,
        Join({resolv.nameservers.begin(), resolv.nameservers.begin() + kMaxDnsNameservers}, " ")));
    resolv.nameservers.resize(kMaxDnsNameservers);
  }
  if (resolv.searches.size() > kMaxDnsSearches) {
    warnings->push_back(
        fmt::format("spec.dnsConfig: more than {} search domains, kept the first {}",
                    kMaxDnsSearches, kMaxDnsSearches));
    resolv.searches.resize(kMaxDnsSearches);
  }
  manifest->dns = std::move(resolv.nameservers);
  manifest->dns_search = std::move(resolv.searches);
  manifest->dns_opt = std::move(resolv.options);
  return Ok();
}

}  // namespace comet::kube
