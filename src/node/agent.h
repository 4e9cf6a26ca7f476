// Agent: the `comet node` agent, the kubelet's sync loop for static pods on comet (rktnetes
// reborn). Desired state: the Pods of the manifest directory (desired_pods.h), watched with
// inotify and re-read every --sync-frequency. Observed state: only the api-service (the comet
// pods it lists with rkt.kubernetes.io/managed-by-kubelet=true) and systemd (the pods' units and
// their change signals) — never comet's data directory. Each Kubernetes pod runs as comet pods
// ("attempts", one after the other) prepared with `comet play --prepare` and supervised by a
// k8s_<uuid>.service unit (or detached, without systemd); the agent restarts exited ones per
// restartPolicy with back-off, probes running ones, runs their hooks, replaces those whose
// manifest changed, removes those whose manifest went away, collects old attempts and orphaned
// units, and adopts what runs when it starts. When the api-service does not answer it changes
// nothing (systemd keeps the pods running) and asks again at every sync.
//
// Threads: the loop (Run) owns all state; each pod's operation (start, stop, remove) runs on a
// thread of its own with its own systemd connection, and each probe on a worker thread; both
// report through the inbox. Not thread-safe: call Run from one thread.
#ifndef COMET_NODE_AGENT_H_
#define COMET_NODE_AGENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "node/agent_inbox.h"
#include "node/api_client.h"
#include "node/comet_runner.h"
#include "node/desired_pods.h"
#include "node/event_recorder.h"
#include "node/manifest_watch.h"
#include "node/pod_attempts.h"
#include "node/pod_supervision.h"
#include "node/probe_worker.h"
#include "node/restart_policy.h"
#include "pod/restart_backoff.h"

namespace comet::node {

struct AgentOptions {
  std::string manifest_dir;
  std::string root_dir;
  std::string api_endpoint;
  std::chrono::milliseconds sync_frequency{10'000};
  SupervisionOptions supervision;  // its runner options are the agent's comet commands
  pod::BackoffPolicy backoff;
  // Attempts of a Kubernetes pod kept for its status (the newest ones); older exited ones go.
  size_t keep_attempts = 2;
  // How long postStart hooks wait for their container to run.
  std::chrono::milliseconds post_start_wait{30'000};
  // A k8s_*.service file with no comet pod is removed once it is this old (a pod being started
  // has its unit written right after it was prepared).
  std::chrono::milliseconds orphan_unit_age{10'000};
};

class Agent {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Agent>> Create(AgentOptions options);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  Agent(Agent&&) = delete;
  Agent& operator=(Agent&&) = delete;
  // Stops the probes and waits for the operations still running.
  ~Agent();

  // Syncs until `stop_fd` (a signalfd, say) becomes readable; pods are left as they are.
  [[nodiscard]] Status Run(int stop_fd);
  // Waits up to `timeout` for pod operations still running (after Run); false if some remain.
  [[nodiscard]] bool WaitForOperations(std::chrono::milliseconds timeout);

 private:
  using Clock = std::chrono::steady_clock;

  // One pod operation on its thread. The thread fills the results and then posts its id; the
  // loop reads them after joining it.
  struct Operation {
    uint64_t id = 0;
    std::string what;  // "start", "stop", "remove", "gc"
    std::thread thread;
    Status status = Ok();
    std::string uuid;  // start: the comet pod started (also when its start failed)
    bool post_start_failed = false;
  };
  using OperationBody = std::function<void(Operation&)>;

  // Everything the loop knows of one Kubernetes pod.
  struct PodRecord {
    std::string key;  // "namespace/name"
    std::string namespace_name;
    std::string name;
    std::optional<DesiredPod> desired;       // in the manifest directory at the last sync
    std::optional<DesiredPod> last_desired;  // what its attempts run (kept once removed)
    std::unique_ptr<Operation> operation;
    pod::Backoff backoff;
    std::string exit_seen;  // the exited attempt whose restart was decided
    bool restart_pending = false;
    Clock::time_point restart_at{};
    std::set<std::string> known;  // attempts this agent started or adopted
    // Probes of the running attempt `probed` (at `probe_ip`), each with the serial its updates
    // carry, and the start of each container's run they were armed for: when the supervisor
    // restarts a container inside the pod, its probes start over (startup first; not ready
    // until its readiness probe succeeds again), as the kubelet's do for a new container.
    std::string probed;
    std::string probe_ip;
    std::vector<std::pair<uint64_t, std::unique_ptr<ProbeWorker>>> probes;
    std::map<std::string, int64_t> probed_runs;
    std::map<std::string, bool> readiness;
    // The running attempt the agent is to stop (a failed liveness or startup probe, a failed
    // postStart hook), and the last one it stopped so: that one restarts unless the policy is
    // Never, whatever its apps' exit codes (the kubelet's rule).
    std::string kill_requested;
    std::string killed_for_restart;
    bool terminating = false;
    // The attempt the last start made, until the api-service lists it.
    std::string started;
    Clock::time_point started_at{};
  };

  explicit Agent(AgentOptions options, ApiClient api, AgentInbox inbox, ManifestWatch watch);

  // agent.cc: the loop.
  void SyncIfDue();
  // Polls until something happens and handles it; false once `stop_fd` is readable.
  [[nodiscard]] Result<bool> WaitAndHandle(int stop_fd);
  void HandleMessages();
  [[nodiscard]] Clock::time_point NextWake() const;
  // The least time between a sync and the next one that a due restart brings on.
  [[nodiscard]] Clock::duration RestartGap() const;
  [[nodiscard]] Status EnsureSupervision();

  // agent_sync.cc: one pass over every pod.
  void Sync();
  void LoadDesired();
  void Reconcile(PodRecord& record, std::vector<Attempt>& attempts);
  // What the newest attempt's phase calls for (it has the manifest's hash).
  void ActOnNewest(PodRecord& record, std::vector<Attempt>& attempts);
  void RemovePod(PodRecord& record, const std::vector<Attempt>& attempts);
  void ReplacePod(PodRecord& record, const std::vector<Attempt>& attempts);
  // Whether the last start's pod is still missing from the api-service's list (wait for it).
  static bool AwaitListing(PodRecord& record, const std::vector<Attempt>& attempts);
  void HandleExit(PodRecord& record, std::vector<Attempt>& attempts);
  void Adopt(PodRecord& record, const Attempt& attempt);
  PodRecord& RecordFor(const std::string& key);
  void AddEvent(const PodRecord& record, std::string_view type, std::string_view reason,
                const std::string& message);
  void WriteStatus(const PodRecord& record) const;

  // agent_ops.cc: pod operations on their own threads.
  void Dispatch(PodRecord& record, std::string what, OperationBody body);
  void StartPod(PodRecord& record, int restart_count, const std::string& prepared_uuid,
                std::vector<std::string> remove_first);
  void StopPods(PodRecord& record, std::vector<std::string> running,
                std::vector<std::string> remove, bool hooks, std::string what);
  void FinishOperation(const std::string& key, uint64_t id);

  // agent_probes.cc.
  void EnsureProbes(PodRecord& record, const Attempt& attempt);
  void AddProbe(PodRecord& record, ProbeKind kind, const kube::Container& container);
  // A container's probes from the start: startup first, else liveness and readiness.
  void ArmProbes(PodRecord& record, const kube::Container& container);
  // Retires `container`'s probes (all of them when empty) like StopProbes.
  void RetireProbes(PodRecord& record, const std::string& container);
  // Stops the record's probes without waiting for a check in progress (they are joined once
  // finished, by ReapProbes).
  void StopProbes(PodRecord& record);
  void ReapProbes();
  void HandleProbe(const ProbeUpdate& update);

  // agent_gc.cc.
  void CollectAttempts(PodRecord& record, const std::vector<Attempt>& attempts);
  void CollectOrphanUnits(const std::vector<v1alpha::Pod>& listed);

  AgentOptions options_;
  ApiClient api_;
  AgentInbox inbox_;
  ManifestWatch watch_;
  ManifestDir manifests_;
  CometRunner runner_;
  EventRecorder events_;
  std::unique_ptr<PodSupervision> supervision_;  // the loop's own (state, change signals)

  std::map<std::string, DesiredPod> desired_;
  std::map<std::string, PodRecord> records_;
  std::vector<std::unique_ptr<ProbeWorker>> retired_probes_;  // stopping; joined when finished
  std::set<std::string> problems_;                            // manifest problems already logged
  bool manifests_dirty_ = true;
  bool api_up_ = true;
  bool first_sync_ = true;
  Clock::time_point sync_due_{};
  Clock::time_point last_sync_{};
  // The last sync could not see the pods (systemd or the api-service did not answer): a due
  // restart waits a second before the next try instead of a settle, quietly.
  bool last_sync_failed_ = false;
  Clock::time_point next_resync_{};
  uint64_t next_operation_id_ = 0;
  uint64_t next_probe_serial_ = 0;
};

}  // namespace comet::node

#endif  // COMET_NODE_AGENT_H_
