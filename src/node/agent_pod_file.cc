// The agent's per-pod status file (see agent_pod_file.h).
#include "node/agent_pod_file.h"

#include <unistd.h>

#include "base/json.h"
#include "node/event_recorder.h"
#include "os/file.h"

namespace comet::node {
namespace {

constexpr size_t kMaxFileBytes = size_t{256} * 1024;

std::string PathOf(std::string_view root_dir, std::string_view namespace_name,
                   std::string_view name) {
  std::string path = EventsFile(AgentPodFileDir(root_dir), namespace_name, name);
  return path.substr(0, path.size() - std::string_view(".jsonl").size()) + ".json";
}

}  // namespace

std::string AgentPodFileDir(std::string_view root_dir) {
  return os::JoinPath(root_dir, "status");
}

Status WriteAgentPodFile(std::string_view root_dir, std::string_view namespace_name,
                         std::string_view name, const AgentPodFile& file) {
  json::OrderedJson out;
  out["podUuid"] = file.pod_uuid;
  out["restartPolicy"] = file.restart_policy;
  out["hostNetwork"] = file.host_network;
  out["terminating"] = file.terminating;
  out["readiness"] = json::OrderedJson::object();
  for (const auto& [container, ready] : file.readiness) {
    out["readiness"][container] = ready;
  }
  RETURN_IF_ERROR(os::MkdirAll(AgentPodFileDir(root_dir), 0755));
  return os::ReplaceFile(PathOf(root_dir, namespace_name, name), json::Dump(out, 2) + "\n", 0644);
}

Result<AgentPodFile> ReadAgentPodFile(std::string_view root_dir, std::string_view namespace_name,
                                      std::string_view name) {
  const std::string path = PathOf(root_dir, namespace_name, name);
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(path, kMaxFileBytes));
  if (json::TooDeepAt(text, 8)) {
    return Err(Error::Invalid(path + ": nested too deep"));
  }
  auto parsed = json::Parse(text);
  if (!parsed) {
    return Err(Error::Invalid(path + ": " + parsed.error().reason));
  }
  RETURN_IF_ERROR_CTX(json::ExpectObject(*parsed, "", json::Wording::kNamesType), path);
  AgentPodFile file;
  json::ObjectReader reader(*parsed, "");
  RETURN_IF_ERROR_CTX(reader.Read("podUuid", &file.pod_uuid), path);
  RETURN_IF_ERROR_CTX(reader.Read("restartPolicy", &file.restart_policy), path);
  RETURN_IF_ERROR_CTX(reader.Read("hostNetwork", &file.host_network), path);
  RETURN_IF_ERROR_CTX(reader.Read("terminating", &file.terminating), path);
  if (const json::Json* readiness = json::Member(*parsed, "readiness")) {
    RETURN_IF_ERROR_CTX(json::ExpectObject(*readiness, "readiness", json::Wording::kNamesType),
                        path);
    for (const auto& [container, ready] : readiness->items()) {
      if (ready.is_boolean()) {
        file.readiness[container] = ready.get<bool>();
      }
    }
  }
  return file;
}

void RemoveAgentPodFile(std::string_view root_dir, std::string_view namespace_name,
                        std::string_view name) {
  (void)::unlink(PathOf(root_dir, namespace_name, name).c_str());
}

}  // namespace comet::node
