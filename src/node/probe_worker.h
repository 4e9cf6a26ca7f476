// ProbeWorker: one probe (startup, liveness or readiness) of one container of a running comet
// pod, on its own thread, as the kubelet's probe workers ran: the first check initialDelaySeconds
// after the container started, then one every periodSeconds, each bounded by timeoutSeconds;
// successThreshold and failureThreshold consecutive results change its state. What it learns is
// handed to a sink (the agent's inbox): a first failure (for an event), a liveness or startup
// probe that failed for good (the agent restarts the pod), a startup probe that succeeded (the
// agent starts the other probes), readiness changes. The agent tells it whether the container
// runs (a container the supervisor is restarting is not probed; a new start resets the counts).
// Thread-safe: SetContainer and Stop from the agent's thread while the worker runs its own.
#ifndef COMET_NODE_PROBE_WORKER_H_
#define COMET_NODE_PROBE_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "kube/objects.h"
#include "node/comet_runner.h"
#include "node/probe_check.h"

namespace comet::node {

enum class ProbeKind { kStartup, kLiveness, kReadiness };
// "Startup", "Liveness", "Readiness" (as the kubelet's events name them).
[[nodiscard]] const char* ProbeKindName(ProbeKind kind);

struct ProbeUpdate {
  enum class Outcome {
    kFailedOnce,  // the first failure after a success or a (re)start: worth an event
    kFailed,      // failureThreshold reached: liveness/startup → restart; readiness → not ready
    kSucceeded,   // startup done, or readiness → ready
  };
  std::string pod_key;   // "namespace/name"
  std::string pod_uuid;  // the comet pod probed
  std::string container;
  ProbeKind kind = ProbeKind::kLiveness;
  Outcome outcome = Outcome::kFailedOnce;
  std::string message;
  uint64_t serial = 0;  // which worker: stamped by the agent's sink, not by the worker
};

// Receives updates on the worker's thread: must be thread-safe and quick.
using ProbeSink = std::function<void(ProbeUpdate)>;

class ProbeWorker {
 public:
  ProbeWorker(ProbeKind kind, kube::Probe probe, ProbeTarget target, std::string pod_key,
              std::string container, CometRunner runner, ProbeSink sink);
  ProbeWorker(const ProbeWorker&) = delete;
  ProbeWorker& operator=(const ProbeWorker&) = delete;
  ProbeWorker(ProbeWorker&&) = delete;
  ProbeWorker& operator=(ProbeWorker&&) = delete;
  ~ProbeWorker();  // Stop()

  // Whether the container runs, and since when (ns since the epoch; 0: unknown, counted from
  // now). A different start time is a new run: counts and the initial delay start over.
  void SetContainer(bool running, int64_t started_at_ns);
  // Asks the worker to end without waiting for it (a check in progress runs to its end, at most
  // its timeout); finished() says when it has.
  void RequestStop();
  [[nodiscard]] bool finished() const { return finished_.load(); }
  // Ends the worker and waits for it.
  void Stop();

  [[nodiscard]] ProbeKind kind() const { return kind_; }
  [[nodiscard]] const std::string& container() const { return container_; }

 private:
  void Loop();
  // Runs checks for one run of the container until it ends, the worker stops or the probe
  // reached a final result; true when the worker is done for good.
  bool ProbeRun(std::unique_lock<std::mutex>& lock, uint64_t generation, int64_t started_at_ns);
  void Post(ProbeUpdate::Outcome outcome, std::string message);
  // Posts what one check's result means for this kind of probe; true when the probe is done
  // for good (startup succeeded or failed, liveness failed). `ready` is the readiness state.
  bool Report(const CheckResult& result, bool enough_successes, bool final_failure,
              bool first_final_failure, bool& ready);

  const ProbeKind kind_;
  const kube::Probe probe_;
  const ProbeTarget target_;
  const std::string pod_key_;
  const std::string container_;
  const CometRunner runner_;
  const ProbeSink sink_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool running_ = false;
  int64_t started_at_ns_ = -1;
  uint64_t generation_ = 0;  // bumped by every change SetContainer makes
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace comet::node

#endif  // COMET_NODE_PROBE_WORKER_H_
