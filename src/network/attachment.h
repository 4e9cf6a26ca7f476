// NetworkAttachment: the record of one network attached to a pod. It holds everything a DEL
// needs (container id, netns path, ifname, CNI_ARGS, port mappings, the config exactly as ADD
// ran it, the ADD result), so teardown works from the record alone after the supervisor was
// killed and /etc/comet/net.d changed; plus the addresses for status output. Thread-safe
// (value types, pure functions).
#ifndef COMET_NETWORK_ATTACHMENT_H_
#define COMET_NETWORK_ATTACHMENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "network/cni_plugin.h"

namespace comet::network {

inline constexpr size_t kMaxAttachmentsBytes = size_t{4} << 20;

// NOLINTNEXTLINE(bugprone-exception-escape): false positive on implicit members (json::Json)
struct NetworkAttachment {
  std::string network;               // the network's name
  CniInvocation invocation;          // container id, netns, ifname, CNI_ARGS, port mappings
  json::Json config;                 // the materialised conflist (ToConfList)
  std::optional<json::Json> result;  // the ADD result, once ADD succeeded
  // From the result: the pod interface's first addresses (CIDR) and their gateways, or empty.
  std::string ipv4;
  std::string ipv6;
  std::string gateway4;
  std::string gateway6;
};

// Fills the address fields from `attachment->result`.
[[nodiscard]] Status Summarize(NetworkAttachment* attachment);

// {"version": 1, "networks": [...]} and back; parsing is bounded and checks every field.
std::string AttachmentsToJson(const std::vector<NetworkAttachment>& attachments);
[[nodiscard]] Result<std::vector<NetworkAttachment>> ParseAttachments(std::string_view text);

}  // namespace comet::network

#endif  // COMET_NETWORK_ATTACHMENT_H_
