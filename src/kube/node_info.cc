// WithHostDefaults, ParseMemTotal; see node_info.h.
#include "kube/node_info.h"

#include <unistd.h>

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

}  // namespace comet::kube
