// One CNI plugin run; see cni_plugin.h.
#include "network/cni_plugin.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "network/json_doc.h"
#include "os/subprocess.h"

namespace comet::network {

namespace {

// Plugins run iptables, ip6tables and their IPAM plugin (through CNI_PATH); a fixed PATH keeps
// the caller's (possibly user-controlled) PATH out of a root helper.
constexpr std::string_view kPluginPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kMaxPluginOutput = size_t{1} << 20;
constexpr size_t kMaxShownOutput = 500;

std::string Shown(std::string_view text) {
  return Printable(TrimSpace(text), kMaxShownOutput);
}

// The message of a failed run: the plugin's error JSON when it printed one, else its output.
std::string FailureMessage(const os::SubprocessResult& run) {
  auto parsed = ParseJsonObject(run.stdout_data, kMaxPluginOutput, "plugin error");
  if (parsed) {
    std::string msg;
    std::string details;
    const json::Json* m = json::Member(*parsed, "msg");
    const json::Json* d = json::Member(*parsed, "details");
    if (m != nullptr && m->is_string()) {
      msg = Shown(m->get<std::string>());
    }
    if (d != nullptr && d->is_string()) {
      details = Shown(d->get<std::string>());
    }
    if (!msg.empty()) {
      return details.empty() ? msg : fmt::format("{} ({})", msg, details);
    }
  }
  std::string output = Shown(run.stderr_data.empty() ? run.stdout_data : run.stderr_data);
  return output.empty() ? run.Describe() : fmt::format("{}: {}", run.Describe(), output);
}

}  // namespace

std::string_view CniCommandName(CniCommand command) {
  switch (command) {
    case CniCommand::kAdd:
      return "ADD";
    case CniCommand::kDel:
      return "DEL";
    case CniCommand::kCheck:
      return "CHECK";
  }
  return "?";
}

json::Json PluginStdin(const NetworkConfig& network, const PluginConfig& plugin,
                       const CniInvocation& invocation, const json::Json* prev_result) {
  json::Json conf = plugin.object;
  conf["name"] = network.name;
  conf["cniVersion"] = network.cni_version;
  if (prev_result != nullptr) {
    conf["prevResult"] = *prev_result;
  }
  json::Json runtime = json::Json::object();
  auto declares = [&](std::string_view capability) {
    return std::find(plugin.capabilities.begin(), plugin.capabilities.end(), capability) !=
           plugin.capabilities.end();
  };
  if (declares("portMappings") && !invocation.port_mappings.empty()) {
    runtime["portMappings"] = PortMappingsJson(invocation.port_mappings);
  }
  if (!runtime.empty()) {
    conf["runtimeConfig"] = std::move(runtime);
  }
  return conf;
}

std::vector<std::string> PluginEnv(CniCommand command, const CniInvocation& invocation,
                                   const CniRuntimeOptions& options) {
  std::vector<std::string> env = {
      fmt::format("CNI_COMMAND={}", CniCommandName(command)),
      fmt::format("CNI_CONTAINERID={}", invocation.container_id),
      fmt::format("CNI_NETNS={}", invocation.netns),
      fmt::format("CNI_IFNAME={}", invocation.ifname),
      fmt::format("CNI_PATH={}", Join(options.cni_path, ":")),
      fmt::format("PATH={}", kPluginPath),
  };
  if (!invocation.cni_args.empty()) {
    env.push_back(fmt::format("CNI_ARGS={}", invocation.cni_args));
  }
  return env;
}

Result<json::Json> ExecPlugin(CniCommand command, const NetworkConfig& network,
                              const PluginConfig& plugin, const CniInvocation& invocation,
                              const json::Json* prev_result, const CniRuntimeOptions& options) {
  std::string where = fmt::format("network {}: plugin {}", network.name, plugin.type);
  auto program = FindPlugin(plugin.type, options.cni_path);
  if (!program) {
    return Err(std::move(program).error().AddContext(fmt::format("network {}", network.name)));
  }
  os::SubprocessOptions run;
  run.program = *program;
  run.argv = {plugin.type};
  run.env = PluginEnv(command, invocation, options);
  run.stdin_data = json::Dump(PluginStdin(network, plugin, invocation, prev_result), -1);
  run.max_stdout = kMaxPluginOutput;
  run.timeout = options.plugin_timeout;
  auto result = os::RunSubprocess(run);
  if (!result) {
    return Err(std::move(result).error().AddContext(where));
  }
  if (result->timed_out) {
    return Err(
        Error(ETIMEDOUT, fmt::format("{}: {} timed out after {} ms and was killed", where,
                                     CniCommandName(command), options.plugin_timeout.count())));
  }
  if (!result->Succeeded()) {
    return Err(Error(EIO, fmt::format("{}: {}", where, FailureMessage(*result))));
  }
  if (result->stdout_truncated) {
    return Err(
        Error(EFBIG, fmt::format("{}: output larger than {} bytes", where, kMaxPluginOutput)));
  }
  if (TrimSpace(result->stdout_data).empty()) {
    return json::Json::object();
  }
  auto parsed = ParseJsonObject(result->stdout_data, kMaxPluginOutput,
                                fmt::format("{}: {} result", where, CniCommandName(command)));
  if (!parsed) {
    return Err(std::move(parsed).error());
  }
  return parsed;
}

}  // namespace comet::network
