// Runs one CNI plugin once (CNI spec 1.0 §2): the CNI_* environment, the plugin's object with
// name, cniVersion, prevResult and runtimeConfig on stdin, a timeout, and the error JSON
// ({code, msg, details}) of a failing plugin turned into an Error. Thread-safe.
#ifndef COMET_NETWORK_CNI_PLUGIN_H_
#define COMET_NETWORK_CNI_PLUGIN_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "network/cni_config.h"
#include "network/port_mapping.h"

namespace comet::network {

enum class CniCommand { kAdd, kDel, kCheck };
std::string_view CniCommandName(CniCommand command);

// How plugins are found and run.
struct CniRuntimeOptions {
  std::vector<std::string> cni_path = SplitCniPath(kDefaultCniPath);
  std::chrono::milliseconds plugin_timeout{30000};
};

// One attachment of a network to a pod's netns.
struct CniInvocation {
  std::string container_id;  // the pod uuid
  std::string netns;         // path of the pinned netns; empty on a DEL whose netns is gone
  std::string ifname;        // "eth0"
  std::string cni_args;      // CNI_ARGS ("K=V;K2=V2"), may be empty
  std::vector<PortMapping> port_mappings;  // runtimeConfig for plugins declaring portMappings
};

// The plugin's stdin for `command`: its object plus name, cniVersion, prevResult (when given)
// and runtimeConfig for the capabilities it declares and the invocation supplies.
json::Json PluginStdin(const NetworkConfig& network, const PluginConfig& plugin,
                       const CniInvocation& invocation, const json::Json* prev_result);

// The environment (CNI_* and a fixed PATH for the plugins' own helpers such as iptables).
std::vector<std::string> PluginEnv(CniCommand command, const CniInvocation& invocation,
                                   const CniRuntimeOptions& options);

// Runs `plugin` of `network`. Returns what it printed, parsed (an empty object when it printed
// nothing, as DEL and CHECK may). A failure is "network NAME: plugin TYPE: MSG (DETAILS)".
[[nodiscard]] Result<json::Json> ExecPlugin(CniCommand command, const NetworkConfig& network,
                                            const PluginConfig& plugin,
                                            const CniInvocation& invocation,
                                            const json::Json* prev_result,
                                            const CniRuntimeOptions& options);

}  // namespace comet::network

#endif  // COMET_NETWORK_CNI_PLUGIN_H_
