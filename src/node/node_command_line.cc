// CLI11 setup of comet-node: the kubelet's flag names where the kubelet had them.
#include "node/node_command_line.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/duration.h"
#include "base/strings.h"
#include "os/file.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::node {
namespace {

// Flag values converted after parsing, so that their errors read like ours, not CLI11's.
struct RawFlags {
  std::string sync_frequency = "10s";
  std::string supervision = "auto";
};

void AddAgentFlags(CLI::App& app, NodeFlags& flags, RawFlags& raw) {
  app.add_option("--container-runtime", flags.container_runtime,
                 "The container runtime; only rkt (comet, rkt's successor) is supported");
  app.add_option("--rkt-path", flags.rkt_path,
                 "The comet binary to run pods with (default: comet on $PATH, else beside "
                 "comet-node)");
  app.add_option("--rkt-api-endpoint", flags.api_endpoint,
                 "The api-service's address (default localhost:15441)");
  app.add_option("--pod-manifest-path", flags.pod_manifest_path,
                 "Directory of static pod manifests (YAML or JSON), watched for changes");
  app.add_option("--sync-frequency", raw.sync_frequency,
                 "How often every pod is synced even when nothing changed (default 10s)");
  app.add_option("--root-dir", flags.root_dir,
                 "The agent's own state: events, stop markers (default /var/lib/comet-node)");
  app.add_option("--dir", flags.data_dir,
                 "comet's data directory, passed to every comet command (default: comet's)");
  app.add_option("--unit-dir", flags.unit_dir,
                 "Where pod units are written (default /run/systemd/system)");
  app.add_option("--systemd-bus", flags.systemd_bus,
                 "D-Bus address of systemd (default: the system bus)");
  app.add_option("--net", flags.net,
                 "Networks of the pods that are not hostNetwork, as `comet run --net` (default: "
                 "comet's default network)");
  app.add_option("--pod-supervision", raw.supervision,
                 "systemd (pods as service units), direct (detached comet pods, where no "
                 "systemd runs) or auto (default: systemd when it runs)");
  app.add_option("--hostname-override", flags.node_name,
                 "The node's name (default: the host name)");
  app.add_flag("--debug", flags.debug, "Log every decision of the sync loop");
}

Status Finish(const RawFlags& raw, NodeInvocation& in) {
  NodeFlags& flags = in.flags;
  if (flags.container_runtime != "rkt") {
    return Err(Error::Invalid(
        fmt::format("--container-runtime={}: only rkt is supported (comet is rkt's successor)",
                    Printable(flags.container_runtime, 64))));
  }
  auto frequency = ParseDuration(raw.sync_frequency);
  if (!frequency) {
    return Err(std::move(frequency).error().AddContext("--sync-frequency"));
  }
  flags.sync_frequency = std::chrono::duration_cast<std::chrono::milliseconds>(*frequency);
  if (flags.sync_frequency < std::chrono::milliseconds(100)) {
    return Err(Error::Invalid("--sync-frequency: at least 100ms"));
  }
  if (raw.supervision == "auto") {
    flags.supervision = Supervision::kAuto;
  } else if (raw.supervision == "systemd") {
    flags.supervision = Supervision::kSystemd;
  } else if (raw.supervision == "direct") {
    flags.supervision = Supervision::kDirect;
  } else {
    return Err(Error::Invalid(fmt::format("--pod-supervision={}: want systemd, direct or auto",
                                          Printable(raw.supervision, 64))));
  }
  for (std::string* dir : {&flags.root_dir, &flags.unit_dir}) {
    if (dir->empty() || (*dir)[0] != '/') {
      return Err(
          Error::Invalid(fmt::format("{}: an absolute path is needed", Printable(*dir, 200))));
    }
  }
  if (in.command == NodeInvocation::Command::kRun && flags.pod_manifest_path.empty()) {
    return Err(Error::Invalid("--pod-manifest-path: required (the agent runs static pods)"));
  }
  return Ok();
}

}  // namespace

Status ParseNodeCommandLine(const std::vector<std::string>& args, NodeInvocation& in) {
  CLI::App app(
      "comet-node: a kubelet-style node agent (rktnetes reborn). Runs the Pods of the YAML and "
      "JSON files in --pod-manifest-path as comet pods, each in a systemd service unit "
      "k8s_<uuid>.service, until SIGTERM or SIGINT (which leave the pods running); learns "
      "their state from comet's api-service and systemd only. See docs/node.md.",
      "comet-node");
  app.require_subcommand(0, 1);
  RawFlags raw;
  AddAgentFlags(app, in.flags, raw);
  app.set_version_flag("--version", fmt::format("comet-node version {}", COMET_VERSION));

  CLI::App* get = app.add_subcommand("get", "Show resources (as kubectl get)");
  get->require_subcommand(1, 1);
  get->fallthrough();
  CLI::App* get_pods =
      get->add_subcommand("pods",
                          "NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE of every pod, from the "
                          "api-service");
  get_pods->alias("pod");
  get_pods->alias("po");
  get_pods->fallthrough();
  get_pods->add_option("-n,--namespace", in.namespace_name, "Only this namespace");
  get_pods->add_flag("-A,--all-namespaces", in.all_namespaces, "Every namespace (the default)");

  CLI::App* describe = app.add_subcommand("describe", "Describe resources (as kubectl describe)");
  describe->require_subcommand(1, 1);
  describe->fallthrough();
  CLI::App* describe_pod = describe->add_subcommand(
      "pod", "A pod's status, containers and the agent's events, from the api-service");
  describe_pod->alias("pods");
  describe_pod->alias("po");
  describe_pod->fallthrough();
  describe_pod->add_option("name", in.pod_name, "The pod's name")->required();
  describe_pod->add_option("-n,--namespace", in.namespace_name,
                           "The pod's namespace (default: default)");

  std::vector<std::string> rest(args.rbegin(), args.rend());
  if (!rest.empty()) {
    rest.pop_back();
  }
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    if (app.exit(e, out, err) == 0) {  // --help or --version
      in.output = out.str();
      return Ok();
    }
    std::string message = e.what();
    if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') {
      message[0] = static_cast<char>(message[0] - 'A' + 'a');
    }
    return Err(Error::Invalid(std::move(message)));
  }
  if (get->parsed()) {
    in.command = NodeInvocation::Command::kGetPods;
    if (get_pods->count("--namespace") == 0) {
      in.all_namespaces = true;
    }
  } else if (describe->parsed()) {
    in.command = NodeInvocation::Command::kDescribePod;
  }
  return Finish(raw, in);
}

Result<std::string> ResolveRktPath(const std::string& flag, const std::string& self) {
  if (!flag.empty()) {
    if (flag.find('/') == std::string::npos) {
      // A bare name is looked up in $PATH, as the kubelet did with exec.LookPath.
      const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): before threads
      for (const std::string& dir : Split(path != nullptr ? path : "", ':')) {
        const std::string candidate = os::JoinPath(dir.empty() ? "." : dir, flag);
        if (::access(candidate.c_str(), X_OK) == 0) {
          return std::filesystem::absolute(candidate).string();
        }
      }
      return Err(Error(ENOENT, fmt::format("--rkt-path={}: not found in $PATH", flag)));
    }
    if (::access(flag.c_str(), X_OK) != 0) {
      return Err(Error::FromErrno("--rkt-path", flag));
    }
    return std::filesystem::absolute(flag).string();
  }
  if (auto found = ResolveRktPath("comet", self)) {
    return found;
  }
  const std::string beside =
      os::JoinPath(std::filesystem::path(self).parent_path().string(), "comet");
  if (!self.empty() && ::access(beside.c_str(), X_OK) == 0) {
    return beside;
  }
  return Err(Error(ENOENT, "comet: not found in $PATH nor beside comet-node (give --rkt-path)"));
}

}  // namespace comet::node
