// The node facts the conversion needs that the caller may leave out (NodeInfo's zeros): the
// memory capacity from /proc/meminfo and the cpus online; and this host's name and address as
// the downward API shows them. Thread-safe.
#ifndef COMET_KUBE_NODE_INFO_H_
#define COMET_KUBE_NODE_INFO_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "kube/to_comet.h"

namespace comet::kube {

// `node` with memory_bytes (MemTotal) and cpu_millis (online cpus * 1000) read from the host
// when 0. Left 0 when unreadable (a Burstable oom score then falls back to 999).
[[nodiscard]] NodeInfo WithHostDefaults(NodeInfo node);

// This host as a node: its host name and its first IPv4 address outside 127.0.0.0/8 (else
// 127.0.0.1); the other fields as WithHostDefaults leaves them to be read.
[[nodiscard]] NodeInfo LocalNodeInfo();

// MemTotal of a /proc/meminfo text, in bytes.
[[nodiscard]] std::optional<uint64_t> ParseMemTotal(std::string_view meminfo);

}  // namespace comet::kube

#endif  // COMET_KUBE_NODE_INFO_H_
