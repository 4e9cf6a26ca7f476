// WithHostDefaults, LocalNodeInfo, ParseMemTotal; see node_info.h.
#include "kube/node_info.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <limits>

#include "base/strings.h"
#include "os/file.h"

namespace comet::kube {
namespace {

constexpr size_t kMaxMeminfoBytes = 1 << 16;

}  // namespace

std::optional<uint64_t> ParseMemTotal(std::string_view meminfo) {
  for (const std::string& line : Split(meminfo, '\n')) {
    std::string_view rest = line;
    if (!StartsWith(rest, "MemTotal:")) {
      continue;
    }
    rest = TrimSpace(rest.substr(9));
    if (!rest.ends_with("kB")) {
      return std::nullopt;
    }
    auto kib = ParseUint(TrimSpace(rest.substr(0, rest.size() - 2)));
    if (!kib || *kib > std::numeric_limits<uint64_t>::max() / 1024) {
      return std::nullopt;
    }
    return static_cast<uint64_t>(*kib) * 1024;
  }
  return std::nullopt;
}

NodeInfo WithHostDefaults(NodeInfo node) {
  if (node.memory_bytes == 0) {
    if (auto text = os::ReadFileLimited("/proc/meminfo", kMaxMeminfoBytes)) {
      node.memory_bytes = ParseMemTotal(*text).value_or(0);
    }
  }
  if (node.cpu_millis == 0) {
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    node.cpu_millis = cpus > 0 ? static_cast<int64_t>(cpus) * 1000 : 0;
  }
  return node;
}

NodeInfo LocalNodeInfo() {
  NodeInfo node;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) == 0) {
    node.node_name = name.data();
  }
  node.host_ip = "127.0.0.1";
  ifaddrs* addresses = nullptr;
  if (::getifaddrs(&addresses) != 0) {
    return node;
  }
  for (const ifaddrs* a = addresses; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    sockaddr_in in{};
    std::memcpy(&in, a->ifa_addr, sizeof(in));
    if ((ntohl(in.sin_addr.s_addr) >> 24) == 127) {
      continue;
    }
    std::array<char, INET_ADDRSTRLEN> text{};
    if (::inet_ntop(AF_INET, &in.sin_addr, text.data(), text.size()) != nullptr) {
      node.host_ip = text.data();
      break;
    }
  }
  ::freeifaddrs(addresses);
  return node;
}

}  // namespace comet::kube
