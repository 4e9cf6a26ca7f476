// `comet node get pods` and `comet node describe pod NAME`: the agent's pods as kubectl shows
// them, computed from what the api-service says of their comet pods (pod_status.h, describe.h),
// the agent's status files (restart policy, readiness) and its events files. They read nothing
// of comet's data directory and need no running agent. Not thread-safe (commands of main()).
#ifndef COMET_NODE_NODE_COMMANDS_H_
#define COMET_NODE_NODE_COMMANDS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "node/api_client.h"
#include "node/node_command_line.h"
#include "node/pod_status.h"

namespace comet::node {

// The node's name (--hostname-override, else the host name) and first global IPv4 address
// (else 127.0.0.1).
struct NodeIdentity {
  std::string name;
  std::string host_ip;
};
[[nodiscard]] NodeIdentity ThisNode(const std::string& name_override);

// The statuses of the agent's pods (those with its pod-hash annotation), sorted by namespace and
// name; only `namespace_name`'s unless empty.
[[nodiscard]] Result<std::vector<KubePodStatus>> AgentPodStatuses(
    const ApiClient& api, const std::string& root_dir, const NodeIdentity& node,
    const std::string& namespace_name);

// The commands: what they print goes to stdout; the exit code.
[[nodiscard]] Result<int> RunGetPods(const NodeInvocation& invocation);
[[nodiscard]] Result<int> RunDescribePod(const NodeInvocation& invocation);

}  // namespace comet::node

#endif  // COMET_NODE_NODE_COMMANDS_H_
