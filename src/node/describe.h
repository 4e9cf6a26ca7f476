// What `comet node get pods` and `comet node describe pod NAME` print: kubectl's table and
// kubectl describe's text for pods computed by ComputePodStatus (pod_status.h), with the events
// the agent recorded. Times print in UTC (RFC 1123 with a numeric zone, as kubectl prints them)
// and ages as kubectl's ("45s", "3m20s", "5h", "2d3h"). Pure functions; thread-safe.
#ifndef COMET_NODE_DESCRIBE_H_
#define COMET_NODE_DESCRIBE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "node/pod_status.h"

namespace comet::node {

// One event about a pod, as the agent records it (kubectl's Events table).
struct Event {
  std::string type;     // "Normal" or "Warning"
  std::string reason;   // "Started", "BackOff", "Killing", ...
  std::string message;  // "Started container web"
  int64_t time_ns = 0;  // when, ns since the epoch
  std::string from;     // the component: "kubelet" (kubectl's From column)
};

// NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE, one line per pod in the given order, columns
// as kubectl aligns them. AGE and the restart age are relative to `now_ns`.
[[nodiscard]] std::string FormatGetPods(const std::vector<KubePodStatus>& pods, int64_t now_ns);
[[nodiscard]] std::string FormatGetPods(const std::vector<KubePodStatus>& pods);  // now

// kubectl describe pod's text; events sorted by time.
[[nodiscard]] std::string FormatDescribePod(const KubePodStatus& pod,
                                            const std::vector<Event>& events, int64_t now_ns);
[[nodiscard]] std::string FormatDescribePod(const KubePodStatus& pod,
                                            const std::vector<Event>& events);  // now

// kubectl's STATUS word for a pod: Running, Completed, Error, CrashLoopBackOff, Init:1/2,
// Init:Error, ContainerCreating, Pending, Terminating, NotReady, ...
[[nodiscard]] std::string PodStatusWord(const KubePodStatus& pod);

// An age as kubectl prints one: "45s" (under 2 minutes), "3m20s", "15m", "5h10m", "20h",
// "2d3h", "40d", "2y30d".
[[nodiscard]] std::string HumanDuration(int64_t ns);

}  // namespace comet::node

#endif  // COMET_NODE_DESCRIBE_H_
