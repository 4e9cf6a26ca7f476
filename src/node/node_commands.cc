// get pods / describe pod (see node_commands.h).
#include "node/node_commands.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "kube/node_info.h"
#include "kube/to_comet.h"
#include "node/agent_pod_file.h"
#include "node/describe.h"
#include "node/event_recorder.h"
#include "node/pod_attempts.h"
#include "os/file.h"

namespace comet::node {

NodeIdentity ThisNode(const std::string& name_override) {
  const kube::NodeInfo local = kube::LocalNodeInfo();
  NodeIdentity node;
  node.name = name_override.empty() ? local.node_name : name_override;
  node.host_ip = local.host_ip;
  return node;
}

Result<std::vector<KubePodStatus>> AgentPodStatuses(const ApiClient& api,
                                                    const std::string& root_dir,
                                                    const NodeIdentity& node,
                                                    const std::string& namespace_name) {
  PodQuery query;
  query.annotations[kube::kManagedByAnnotation] = "true";
  ASSIGN_OR_RETURN(std::vector<v1alpha::Pod> listed, api.ListPods(query));
  std::vector<v1alpha::Pod> ours;
  for (v1alpha::Pod& pod : listed) {
    if (!PodAnnotation(pod, kPodHashAnnotation).empty()) {
      ours.push_back(std::move(pod));
    }
  }
  std::vector<KubePodStatus> out;
  for (const auto& [key, attempts] : GroupByKubePod(ours)) {
    const std::string ns = key.substr(0, key.find('/'));
    const std::string name = key.substr(key.find('/') + 1);
    if (!namespace_name.empty() && ns != namespace_name) {
      continue;
    }
    PodStatusContext context;
    context.node_name = node.name;
    context.host_ip = node.host_ip;
    if (auto file = ReadAgentPodFile(root_dir, ns, name)) {
      context.restart_policy = file->restart_policy;
      context.host_network = file->host_network;
      context.terminating = file->terminating;
      // Readiness is about one attempt: only the newest's counts.
      if (!attempts.empty() && file->pod_uuid == attempts.back().id()) {
        context.readiness = file->readiness;
      }
    }
    out.push_back(ComputePodStatus(attempts, context));
  }
  std::sort(out.begin(), out.end(), [](const KubePodStatus& a, const KubePodStatus& b) {
    return std::tie(a.namespace_name, a.name) < std::tie(b.namespace_name, b.name);
  });
  return out;
}

Result<int> RunGetPods(const NodeInvocation& in) {
  ASSIGN_OR_RETURN(ApiClient api, ApiClient::Connect(in.flags.api_endpoint));
  ASSIGN_OR_RETURN(std::vector<KubePodStatus> pods,
                   AgentPodStatuses(api, in.flags.root_dir, ThisNode(in.flags.node_name),
                                    in.all_namespaces ? "" : in.namespace_name));
  if (pods.empty()) {
    RETURN_IF_ERROR(os::WriteAll(
        STDERR_FILENO, in.all_namespaces ? "No resources found\n"
                                         : fmt::format("No resources found in {} namespace.\n",
                                                       in.namespace_name)));
    return 0;
  }
  RETURN_IF_ERROR(os::WriteAll(STDOUT_FILENO, FormatGetPods(pods)));
  return 0;
}

Result<int> RunDescribePod(const NodeInvocation& in) {
  ASSIGN_OR_RETURN(ApiClient api, ApiClient::Connect(in.flags.api_endpoint));
  ASSIGN_OR_RETURN(
      std::vector<KubePodStatus> pods,
      AgentPodStatuses(api, in.flags.root_dir, ThisNode(in.flags.node_name), in.namespace_name));
  auto pod = std::find_if(pods.begin(), pods.end(),
                          [&](const KubePodStatus& p) { return p.name == in.pod_name; });
  if (pod == pods.end()) {
    return Err(Error(ENOENT, fmt::format("pods \"{}\" not found in namespace {}", in.pod_name,
                                         in.namespace_name)));
  }
  auto events =
      ReadEvents(os::JoinPath(in.flags.root_dir, "events"), in.namespace_name, in.pod_name);
  std::vector<Event> list = events ? std::move(*events) : std::vector<Event>{};
  RETURN_IF_ERROR(os::WriteAll(STDOUT_FILENO, FormatDescribePod(*pod, list)));
  return 0;
}

}  // namespace comet::node
