// What the agent knows of a Kubernetes pod that the api-service does not — its restart policy,
// whether it uses the host's network, whether the agent is stopping it, and its containers'
// readiness from their probes — kept in <root-dir>/status/<namespace>_<name>.json for
// `comet node get pods` and `describe pod` (other processes). Replaced whole on every change, so
// readers never see a torn file. Thread-safe (whole-file writes and reads).
#ifndef COMET_NODE_AGENT_POD_FILE_H_
#define COMET_NODE_AGENT_POD_FILE_H_

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace comet::node {

struct AgentPodFile {
  std::string pod_uuid;        // the comet pod the readiness is about
  std::string restart_policy;  // Always, OnFailure, Never
  bool host_network = false;
  bool terminating = false;
  std::map<std::string, bool> readiness;  // containers with a readiness probe
};

// <root-dir>/status.
[[nodiscard]] std::string AgentPodFileDir(std::string_view root_dir);

[[nodiscard]] Status WriteAgentPodFile(std::string_view root_dir, std::string_view namespace_name,
                                       std::string_view name, const AgentPodFile& file);
// ENOENT when the agent never wrote one.
[[nodiscard]] Result<AgentPodFile> ReadAgentPodFile(std::string_view root_dir,
                                                    std::string_view namespace_name,
                                                    std::string_view name);
void RemoveAgentPodFile(std::string_view root_dir, std::string_view namespace_name,
                        std::string_view name);

}  // namespace comet::node

#endif  // COMET_NODE_AGENT_POD_FILE_H_
