// One run of a probe's or lifecycle hook's action, as the kubelet's prober did it: exec (the
// command in the app, through `comet exec`; success is exit 0), httpGet (a GET from the node to
// the pod's IP; success is a status in [200, 400)), tcpSocket (a connection that opens) and the
// hooks' sleep, each bounded by a timeout. Thread-safe (no shared state): probe workers run
// checks on their own threads.
#ifndef COMET_NODE_PROBE_CHECK_H_
#define COMET_NODE_PROBE_CHECK_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "node/comet_runner.h"

namespace comet::node {

// Where an action runs.
struct ProbeTarget {
  std::string pod_uuid;  // the comet pod (exec)
  std::string app;       // the container's app (exec)
  // httpGet and tcpSocket without a host: the pod's IP, or 127.0.0.1 for a host-network pod and
  // for a pod without an address of its own (--net=none; the kubelet had no better answer).
  std::string ip;
  std::map<std::string, int32_t> named_ports;  // the container's ports by name
};

struct CheckResult {
  bool ok = false;
  std::string message;  // why it failed, or what an exec printed (cut short)
};

// "8080" or a named port of the container: the port number (1-65535).
[[nodiscard]] Result<int32_t> ResolvePort(const std::string& port,
                                          const std::map<std::string, int32_t>& named_ports);

// A TCP connection to host:port that opens within `timeout` (and is closed at once).
[[nodiscard]] CheckResult TcpCheck(const std::string& host, int32_t port,
                                   std::chrono::milliseconds timeout);
// GET http://host:port<path> with `headers` (a "Host" header replaces the default one): ok for a
// response status in [200, 400) within `timeout`.
[[nodiscard]] CheckResult HttpGetCheck(const std::string& host, int32_t port,
                                       const std::string& path,
                                       const std::vector<kube::HttpHeader>& headers,
                                       std::chrono::milliseconds timeout);

// Runs `handler` once against `target`, bounded by `timeout` (a sleep action sleeps at most that
// long). An action of none of the kinds fails.
[[nodiscard]] CheckResult RunAction(const kube::Handler& handler, const ProbeTarget& target,
                                    const CometRunner& runner, std::chrono::milliseconds timeout);

}  // namespace comet::node

#endif  // COMET_NODE_PROBE_CHECK_H_
