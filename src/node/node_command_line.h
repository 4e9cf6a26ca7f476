// The command line of comet-node (`comet node`), the kubelet-style agent: the kubelet's rkt flags
// (--container-runtime, --rkt-path, --rkt-api-endpoint), the static pod flags
// (--pod-manifest-path, --sync-frequency, --root-dir) and comet's own, parsed into one
// NodeInvocation without running anything, so that flags and defaults are unit-testable.
// Subcommands: none (run the agent), `get pods`, `describe pod NAME`. CLI11 is included only by
// the .cc. Not thread-safe; call from main().
#ifndef COMET_NODE_NODE_COMMAND_LINE_H_
#define COMET_NODE_NODE_COMMAND_LINE_H_

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace comet::node {

// How pods are kept running: as systemd service units (rktnetes' way), or as detached comet
// pods (`run-prepared -d`) where no systemd runs. kAuto picks systemd when --systemd-bus is given
// or /run/systemd/system exists (sd_booted(3)'s test), else direct.
enum class Supervision { kAuto, kSystemd, kDirect };

struct NodeFlags {
  std::string container_runtime = "rkt";  // the kubelet's flag; only rkt (comet) is supported
  // The comet binary the agent runs (prepare, run-prepared, exec, rm); empty: `comet` on $PATH,
  // else beside comet-node (ResolveRktPath).
  std::string rkt_path;
  std::string api_endpoint = "localhost:15441";  // the api-service (--rkt-api-endpoint)
  std::string pod_manifest_path;                 // static pods; empty: none
  std::chrono::milliseconds sync_frequency{10'000};
  std::string root_dir = "/var/lib/comet-node";  // events, stop markers, manifest snapshots
  std::string data_dir;                          // comet's --dir; empty: comet's default
  std::string unit_dir = "/run/systemd/system";  // where k8s_<uuid>.service files go
  std::string systemd_bus;                       // D-Bus address; empty: the system bus
  std::string net;                               // --net for `comet play`; empty: its default
  Supervision supervision = Supervision::kAuto;
  std::string node_name;  // --hostname-override; empty: the host name
  bool debug = false;
};

struct NodeInvocation {
  enum class Command { kRun, kGetPods, kDescribePod };
  Command command = Command::kRun;
  NodeFlags flags;
  std::string pod_name;                    // describe pod NAME
  std::string namespace_name = "default";  // -n
  bool all_namespaces = false;             // get pods -A
  std::string output;  // help text to print on stdout instead of running anything
};

// Parses `args` (args[0] is the program name). Errors name the flag.
[[nodiscard]] Status ParseNodeCommandLine(const std::vector<std::string>& args,
                                          NodeInvocation& invocation);

// --rkt-path's default: `comet` in $PATH, else `comet` beside `self` (comet-node's own path,
// /proc/self/exe), else an ENOENT Error.
[[nodiscard]] Result<std::string> ResolveRktPath(const std::string& flag, const std::string& self);

}  // namespace comet::node

#endif  // COMET_NODE_NODE_COMMAND_LINE_H_
