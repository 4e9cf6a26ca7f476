// Pod operations (see agent.h): each on a thread of its own, as the kubelet's pod workers, so
// that a slow prepare (an image pull) or a long grace period holds up no other pod. A thread uses
// only what is thread-safe (the runner, the api client, the event recorder, const options) and
// its own pod supervision (a systemd connection of its own).
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "kube/to_comet.h"
#include "node/agent.h"
#include "node/lifecycle_hooks.h"
#include "node/unit_file.h"
#include "os/file.h"

namespace comet::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// What an operation's thread works with; all of it outlives the thread (the agent joins it).
struct OperationContext {
  const AgentOptions& options;
  const CometRunner& runner;
  const ApiClient& api;
  EventRecorder& events;
  std::string namespace_name;
  std::string name;

  void Note(std::string_view type, std::string_view reason, const std::string& message) const {
    events.Record(namespace_name, name, type, reason, message);
  }
};

void KeepFirstError(Status& first, Status next) {
  if (first && !next) {
    first = std::move(next);
  }
}

// Removes pods that are stopped: their supervision (unit), then the comet pod itself.
Status RemovePods(const OperationContext& ctx, PodSupervision& supervision,
                  const std::vector<std::string>& uuids) {
  Status first = Ok();
  for (const std::string& uuid : uuids) {
    Status forgotten = supervision.Forget(uuid);
    if (!forgotten) {
      log::Warning("pod {}/{}: comet pod {}: {}", ctx.namespace_name, ctx.name, uuid,
                   forgotten.error().ToString());
    }
    KeepFirstError(first, std::move(forgotten));
    Status removed = ctx.runner.Remove(uuid);
    if (!removed) {
      log::Warning("pod {}/{}: {}", ctx.namespace_name, ctx.name, removed.error().ToString());
    }
    KeepFirstError(first, std::move(removed));
  }
  return first;
}

// The manifest's bytes in a private file for `comet play` (the directory's file may change or
// go away meanwhile, and may hold Secrets): 0600 in <root-dir>/manifests.
Result<std::string> WriteSnapshot(const AgentOptions& options, const DesiredPod& want) {
  const std::string path = os::JoinPath(os::JoinPath(options.root_dir, "manifests"),
                                        fmt::format("{}_{}-{}.yaml", want.pod.metadata.namespace_,
                                                    want.pod.metadata.name, want.hash));
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(options.root_dir, "manifests"), 0700));
  RETURN_IF_ERROR(os::ReplaceFile(path, *want.content, 0600));
  return path;
}

void RunStart(const OperationContext& ctx, const DesiredPod& want, int restart_count,
              const std::string& prepared_uuid, const std::vector<std::string>& remove_first,
              bool systemd, Status& status, std::string& started, bool& post_start_failed) {
  auto supervision = OpenSupervision(ctx.options.supervision);
  if (!supervision) {
    ctx.Note("Warning", "Failed", "Error: " + supervision.error().ToString());
    status = Err(std::move(supervision).error());
    return;
  }
  if (!remove_first.empty()) {
    for (const std::string& uuid : remove_first) {
      (void)(*supervision)->Stop(uuid, kMinTimeoutStopSec);
    }
    (void)RemovePods(ctx, **supervision, remove_first);
  }
  const kube::Pod& pod = want.pod;
  const int64_t grace = std::max<int64_t>(pod.spec.termination_grace_period_seconds, 0);
  std::string uuid = prepared_uuid;
  if (uuid.empty()) {
    auto snapshot = WriteSnapshot(ctx.options, want);
    if (!snapshot) {
      ctx.Note("Warning", "Failed", "Error: " + snapshot.error().ToString());
      status = Err(std::move(snapshot).error());
      return;
    }
    PrepareRequest request;
    request.file = *snapshot;
    request.namespace_name = pod.metadata.namespace_;
    request.name = pod.metadata.name;
    request.annotations[kPodHashAnnotation] = want.hash;
    request.annotations[kRestartCountAnnotation] = std::to_string(restart_count);
    request.annotations[kube::kPodUidAnnotation] = want.uid;
    std::vector<std::string> warnings;
    auto prepared = ctx.runner.Prepare(request, &warnings);
    (void)::unlink(snapshot->c_str());
    for (const std::string& warning : warnings) {
      log::Warning("pod {}/{}: {}", ctx.namespace_name, ctx.name, warning);
    }
    if (!prepared) {
      ctx.Note("Warning", "Failed", "Error: " + prepared.error().ToString());
      status = Err(std::move(prepared).error());
      return;
    }
    uuid = *prepared;
    std::vector<std::string> names;
    for (const kube::Container& c : pod.spec.init_containers) {
      names.push_back(c.name);
    }
    for (const kube::Container& c : pod.spec.containers) {
      names.push_back(c.name);
    }
    ctx.Note("Normal", "Created",
             fmt::format("Created comet pod {} (restart {}) for containers {}", uuid, restart_count,
                         Join(names, ", ")));
  }
  started = uuid;
  SupervisedPod supervised;
  supervised.uuid = uuid;
  supervised.namespace_name = pod.metadata.namespace_;
  supervised.name = pod.metadata.name;
  supervised.uid = want.uid;
  supervised.host_network = pod.spec.host_network;
  supervised.grace_seconds = grace;
  if (Status st = (*supervision)->Start(supervised); !st) {
    ctx.Note("Warning", "Failed",
             fmt::format("Error: starting comet pod {}: {}", uuid, st.error().ToString()));
    status = std::move(st);
    return;
  }
  ctx.Note("Normal", "Started",
           systemd ? fmt::format("Started comet pod {} in unit {}", uuid, UnitName(uuid))
                   : fmt::format("Started comet pod {} (detached)", uuid));
  if (HasPostStartHooks(pod)) {
    const milliseconds budget = seconds(std::max<int64_t>(grace, kMinTimeoutStopSec));
    for (const HookFailure& failure :
         RunPostStartHooks(pod, uuid, ctx.api, ctx.runner, ctx.options.post_start_wait, budget)) {
      ctx.Note("Warning", "FailedPostStartHook",
               fmt::format("PostStartHook failed for container {}: {}", failure.container,
                           failure.message));
      post_start_failed = true;
    }
  }
}

void RunStop(const OperationContext& ctx, const std::optional<kube::Pod>& spec, int64_t grace,
             const std::vector<std::string>& running, const std::vector<std::string>& remove,
             Status& status) {
  auto supervision = OpenSupervision(ctx.options.supervision);
  if (!supervision) {
    status = Err(std::move(supervision).error());
    return;
  }
  for (const std::string& uuid : running) {
    // The kubelet's accounting: preStop hooks spend the grace period, the stop gets what is left
    // (at least kMinTimeoutStopSec). (A systemd unit's supervisor was given the whole grace when
    // it started; there the remainder only bounds the agent's wait.)
    int64_t stop_grace = grace;
    if (spec && HasPreStopHooks(*spec)) {
      const auto hooks_started = std::chrono::steady_clock::now();
      std::string ip = "127.0.0.1";
      if (auto pod = ctx.api.InspectPod(uuid)) {
        ip = PodProbeIp(*pod, spec->spec.host_network);
      }
      const milliseconds budget = seconds(std::max<int64_t>(grace, kMinTimeoutStopSec));
      for (const HookFailure& failure : RunPreStopHooks(*spec, uuid, ip, ctx.runner, budget)) {
        ctx.Note("Warning", "FailedPreStopHook",
                 fmt::format("PreStopHook failed for container {}: {}", failure.container,
                             failure.message));
      }
      const auto spent =
          std::chrono::duration_cast<seconds>(std::chrono::steady_clock::now() - hooks_started);
      stop_grace = std::max<int64_t>(grace - spent.count(), kMinTimeoutStopSec);
    }
    if (Status stopped = (*supervision)->Stop(uuid, stop_grace); !stopped) {
      ctx.Note("Warning", "FailedKillPod",
               fmt::format("error stopping comet pod {}: {}", uuid, stopped.error().ToString()));
      KeepFirstError(status, std::move(stopped));
    }
  }
  if (!remove.empty()) {
    KeepFirstError(status, RemovePods(ctx, **supervision, remove));
  }
}

}  // namespace

void Agent::Dispatch(PodRecord& record, std::string what, OperationBody body) {
  auto operation = std::make_unique<Operation>();
  operation->id = ++next_operation_id_;
  operation->what = std::move(what);
  log::Debug("pod {}: {} (operation {})", record.key, operation->what, operation->id);
  Operation* raw = operation.get();
  AgentMessage done;
  done.kind = AgentMessage::Kind::kOperationDone;
  done.pod_key = record.key;
  done.operation_id = operation->id;
  // The thread writes only the Operation's result fields (not `thread`, which is assigned here
  // while it may already run); the loop reads them after joining it.
  raw->thread = std::thread([this, raw, body = std::move(body), done = std::move(done)]() mutable {
    body(*raw);
    inbox_.Post(std::move(done));
  });
  record.operation = std::move(operation);
}

void Agent::FinishOperation(const std::string& key, uint64_t id) {
  auto it = records_.find(key);
  if (it == records_.end() || !it->second.operation || it->second.operation->id != id) {
    return;
  }
  PodRecord& record = it->second;
  std::unique_ptr<Operation> operation = std::move(record.operation);
  operation->thread.join();
  if (!operation->status) {
    log::Warning("pod {}: {}: {}", key, operation->what, operation->status.error().ToString());
  }
  if (operation->what == "start") {
    if (!operation->uuid.empty()) {
      record.known.insert(operation->uuid);
      record.started = operation->uuid;
      record.started_at = Clock::now();
    }
    if (!operation->status) {
      // Nothing was prepared (a bad image, say), or it did not start: again after a back-off.
      record.restart_pending = true;
      record.restart_at = Clock::now() + record.backoff.Next(std::chrono::milliseconds(0));
    }
    if (operation->post_start_failed) {
      record.kill_requested = operation->uuid;
    }
  }
  sync_due_ = Clock::now();
}

void Agent::StartPod(PodRecord& record, int restart_count, const std::string& prepared_uuid,
                     std::vector<std::string> remove_first) {
  DesiredPod want = *record.desired;
  record.last_desired = want;
  const bool systemd = options_.supervision.systemd;
  Dispatch(record, "start",
           [this, want = std::move(want), restart_count, prepared_uuid,
            remove_first = std::move(remove_first), systemd, ns = record.namespace_name,
            name = record.name](Operation& op) {
             const OperationContext ctx{options_, runner_, api_, events_, ns, name};
             RunStart(ctx, want, restart_count, prepared_uuid, remove_first, systemd, op.status,
                      op.uuid, op.post_start_failed);
           });
}

void Agent::StopPods(PodRecord& record, std::vector<std::string> running,
                     std::vector<std::string> remove, bool hooks, std::string what) {
  std::optional<kube::Pod> spec;
  int64_t grace = 30;  // the API server's default, when the spec is not known any more
  if (record.last_desired) {
    grace = std::max<int64_t>(record.last_desired->pod.spec.termination_grace_period_seconds, 0);
    if (hooks) {
      spec = record.last_desired->pod;
    }
  }
  Dispatch(
      record, std::move(what),
      [this, spec = std::move(spec), grace, running = std::move(running),
       remove = std::move(remove), ns = record.namespace_name, name = record.name](Operation& op) {
        const OperationContext ctx{options_, runner_, api_, events_, ns, name};
        RunStop(ctx, spec, grace, running, remove, op.status);
      });
}

}  // namespace comet::node
