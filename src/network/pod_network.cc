// Pod attach/detach; see pod_network.h.
#include "network/pod_network.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "network/cni_exec.h"
#include "network/netns.h"
#include "network/subnet.h"

namespace comet::network {

namespace {

bool CanPublishPorts(const NetworkConfig& config) {
  return std::any_of(config.plugins.begin(), config.plugins.end(), [](const PluginConfig& p) {
    return std::find(p.capabilities.begin(), p.capabilities.end(), "portMappings") !=
           p.capabilities.end();
  });
}

constexpr size_t kMaxCniArgs = 4096;
constexpr size_t kMaxContainerId = 256;

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// CNI_CONTAINERID's rule (CNI spec 1.0 §2) and what an environment variable can carry.
Status ValidateIdentity(const AttachRequest& request) {
  const std::string& id = request.container_id;
  if (id.empty() || id.size() > kMaxContainerId || !IsIdChar(id[0]) || id[0] == '_' ||
      id[0] == '.' || id[0] == '-' || !std::all_of(id.begin(), id.end(), IsIdChar)) {
    return Err(Error::Invalid(fmt::format("container id: invalid \"{}\"", Printable(id, 80))));
  }
  if (request.netns.empty() || request.netns[0] != '/') {
    return Err(Error::Invalid(
        fmt::format("netns: \"{}\" is not an absolute path", Printable(request.netns, 200))));
  }
  for (const NetworkSelection& selection : request.networks) {
    const std::string& args = selection.cni_args;
    bool printable =
        std::all_of(args.begin(), args.end(), [](char c) { return c >= ' ' && c < 127; });
    if (args.size() > kMaxCniArgs || !printable) {
      return Err(Error::Invalid(fmt::format("network {}: CNI args: invalid \"{}\"",
                                            selection.config.name, Printable(args, 80))));
    }
  }
  return Ok();
}

Status ValidateRequest(const AttachRequest& request, const CniRuntimeOptions& options) {
  RETURN_IF_ERROR(ValidateIdentity(request));
  std::set<std::string> names;
  std::vector<const NetworkConfig*> configs;
  for (const NetworkSelection& selection : request.networks) {
    if (!names.insert(selection.config.name).second) {
      return Err(
          Error::Invalid(fmt::format("network {} is asked for twice", selection.config.name)));
    }
    RETURN_IF_ERROR(CheckPluginsInstalled(selection.config, options.cni_path));
    configs.push_back(&selection.config);
  }
  RETURN_IF_ERROR(CheckSubnetOverlap(configs));
  if (!request.port_mappings.empty()) {
    if (std::none_of(configs.begin(), configs.end(),
                     [](const NetworkConfig* c) { return CanPublishPorts(*c); })) {
      return Err(Error::Invalid(
          "ports are published but no network of the pod has a plugin with the portMappings "
          "capability (such as portmap)"));
    }
  }
  return Ok();
}

// Runs DEL for `record`; logs nothing, returns the status.
Status DelRecord(const NetworkAttachment& record, const CniRuntimeOptions& options) {
  ASSIGN_OR_RETURN(NetworkConfig config, FromConfList(record.config, "attachment record"));
  CniInvocation invocation = record.invocation;
  // A netns that is gone can no longer be entered; plugins then release only host state.
  if (!invocation.netns.empty() && !IsNetnsPin(invocation.netns)) {
    invocation.netns.clear();
  }
  const json::Json* result = record.result ? &*record.result : nullptr;
  return DelNetwork(config, invocation, result, options);
}

}  // namespace

Result<std::vector<NetworkAttachment>> PlanAttachments(const AttachRequest& request,
                                                       const CniRuntimeOptions& options) {
  RETURN_IF_ERROR(ValidateRequest(request, options));
  std::vector<NetworkAttachment> records;
  bool ports_given = false;
  for (size_t i = 0; i < request.networks.size(); ++i) {
    const NetworkSelection& selection = request.networks[i];
    NetworkAttachment record;
    record.network = selection.config.name;
    record.config = ToConfList(Materialize(selection.config, request.materialize));
    record.invocation.container_id = request.container_id;
    record.invocation.netns = request.netns;
    record.invocation.ifname = fmt::format("eth{}", i);
    record.invocation.cni_args = selection.cni_args;
    if (!ports_given && CanPublishPorts(selection.config)) {
      record.invocation.port_mappings = request.port_mappings;
      ports_given = true;
    }
    records.push_back(std::move(record));
  }
  return records;
}

Status Attach(std::vector<NetworkAttachment>* records, const CniRuntimeOptions& options,
              const AttachCheckpoint& checkpoint) {
  for (size_t i = 0; i < records->size(); ++i) {
    NetworkAttachment& record = (*records)[i];
    ASSIGN_OR_RETURN(NetworkConfig config, FromConfList(record.config, "attachment record"));
    // Partial results are kept even without a checkpoint: a rollback's DEL needs them too.
    auto on_result = [&](const json::Json& so_far) -> Status {
      record.result = so_far;
      RETURN_IF_ERROR(Summarize(&record));
      return checkpoint ? checkpoint(*records) : Ok();
    };
    auto result = AddNetwork(config, record.invocation, options, on_result);
    Status summarized = Ok();
    if (result) {
      record.result = std::move(*result);
      summarized = Summarize(&record);
    }
    if (result && summarized) {
      continue;
    }
    Error error = result ? std::move(summarized).error() : std::move(result).error();
    // Roll back this network (its chain may be half done) and every earlier one.
    for (size_t j = i + 1; j-- > 0;) {
      if (Status undone = DelRecord((*records)[j], options); !undone) {
        log::Warning("rolling back network {}: {}", (*records)[j].network,
                     undone.error().ToString());
      }
      (*records)[j].result.reset();
      (void)Summarize(&(*records)[j]);
    }
    return Err(std::move(error));
  }
  return Ok();
}

Result<std::vector<NetworkAttachment>> AttachPod(const AttachRequest& request,
                                                 const CniRuntimeOptions& options) {
  ASSIGN_OR_RETURN(std::vector<NetworkAttachment> records, PlanAttachments(request, options));
  RETURN_IF_ERROR(Attach(&records, options));
  return records;
}

Status CheckAttachments(const std::vector<NetworkAttachment>& records,
                        const CniRuntimeOptions& options) {
  for (const NetworkAttachment& record : records) {
    if (!record.result) {
      continue;
    }
    ASSIGN_OR_RETURN(NetworkConfig config, FromConfList(record.config, "attachment record"));
    RETURN_IF_ERROR(CheckNetwork(config, record.invocation, *record.result, options));
  }
  return Ok();
}

Status Detach(const std::vector<NetworkAttachment>& records, const CniRuntimeOptions& options) {
  Status first = Ok();
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    Status done = DelRecord(*it, options);
    if (!done && first) {
      first = Err(std::move(done).error());
    }
  }
  return first;
}

}  // namespace comet::network
