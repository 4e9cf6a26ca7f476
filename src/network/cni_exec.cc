// Plugin chains; see cni_exec.h.
#include "network/cni_exec.h"

#include <fmt/format.h>

namespace comet::network {

Result<json::Json> AddNetwork(const NetworkConfig& network, const CniInvocation& invocation,
                              const CniRuntimeOptions& options,
                              const ResultCheckpoint& checkpoint) {
  json::Json result = json::Json::object();
  const json::Json* prev = nullptr;
  for (const PluginConfig& plugin : network.plugins) {
    ASSIGN_OR_RETURN(json::Json out,
                     ExecPlugin(CniCommand::kAdd, network, plugin, invocation, prev, options));
    // A plugin that prints nothing passes the previous result on unchanged.
    if (!out.empty()) {
      result = std::move(out);
    }
    prev = &result;
    if (checkpoint) {
      RETURN_IF_ERROR(checkpoint(result));
    }
  }
  return result;
}

Status DelNetwork(const NetworkConfig& network, const CniInvocation& invocation,
                  const json::Json* add_result, const CniRuntimeOptions& options) {
  const json::Json* prev = nullptr;
  if (add_result != nullptr && !add_result->empty() && HasCheckAndDelResult(network.cni_version)) {
    prev = add_result;
  }
  Status first = Ok();
  for (auto it = network.plugins.rbegin(); it != network.plugins.rend(); ++it) {
    auto out = ExecPlugin(CniCommand::kDel, network, *it, invocation, prev, options);
    if (!out && first) {
      first = Err(std::move(out).error());
    }
  }
  return first;
}

Status CheckNetwork(const NetworkConfig& network, const CniInvocation& invocation,
                    const json::Json& add_result, const CniRuntimeOptions& options) {
  if (network.disable_check) {
    return Ok();
  }
  if (!HasCheckAndDelResult(network.cni_version)) {
    return Err(Error::Invalid(
        fmt::format("network {}: cniVersion {} has no CHECK", network.name, network.cni_version)));
  }
  for (const PluginConfig& plugin : network.plugins) {
    RETURN_IF_ERROR(
        ExecPlugin(CniCommand::kCheck, network, plugin, invocation, &add_result, options));
  }
  return Ok();
}

}  // namespace comet::network
