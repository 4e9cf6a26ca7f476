// The agent's probes (see agent.h): one worker per probe of each container of the running
// attempt; startup probes first (a container's liveness and readiness probes start once its
// startup probe succeeded, as the kubelet does); a liveness or startup probe that fails for good
// restarts the whole pod (rktnetes' fate sharing: a container is not restarted alone when the
// agent must do it); readiness feeds READY. A container the supervisor restarts inside the pod
// gets its probes armed again, as a new container's.
#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"
#include "node/agent.h"
#include "node/lifecycle_hooks.h"

namespace comet::node {

void Agent::RetireProbes(PodRecord& record, const std::string& container) {
  for (auto& probe : record.probes) {
    if (container.empty() || probe.second->container() == container) {
      probe.second->RequestStop();
      retired_probes_.push_back(std::move(probe.second));
    }
  }
  std::erase_if(record.probes, [](const auto& probe) { return probe.second == nullptr; });
}

void Agent::StopProbes(PodRecord& record) {
  RetireProbes(record, "");
  record.probed.clear();
  record.probed_runs.clear();
  record.readiness.clear();
}

void Agent::ReapProbes() {
  std::erase_if(retired_probes_, [](const std::unique_ptr<ProbeWorker>& worker) {
    return worker->finished();  // its destructor's join returns at once
  });
}

void Agent::AddProbe(PodRecord& record, ProbeKind kind, const kube::Container& container) {
  const std::optional<kube::Probe>& probe = kind == ProbeKind::kStartup ? container.startup_probe
                                            : kind == ProbeKind::kLiveness
                                                ? container.liveness_probe
                                                : container.readiness_probe;
  if (!probe) {
    return;
  }
  const uint64_t serial = ++next_probe_serial_;
  record.probes.emplace_back(
      serial, std::make_unique<ProbeWorker>(
                  kind, *probe, TargetFor(container, record.probed, record.probe_ip), record.key,
                  container.name, runner_, [inbox = &inbox_, serial](ProbeUpdate update) {
                    update.serial = serial;
                    AgentMessage message;
                    message.kind = AgentMessage::Kind::kProbe;
                    message.pod_key = update.pod_key;
                    message.probe = std::move(update);
                    inbox->Post(std::move(message));
                  }));
}

void Agent::ArmProbes(PodRecord& record, const kube::Container& container) {
  if (container.readiness_probe) {
    record.readiness[container.name] = false;
  }
  if (container.startup_probe) {
    AddProbe(record, ProbeKind::kStartup, container);
  } else {
    AddProbe(record, ProbeKind::kLiveness, container);
    AddProbe(record, ProbeKind::kReadiness, container);
  }
}

void Agent::EnsureProbes(PodRecord& record, const Attempt& attempt) {
  const kube::Pod& pod = record.desired->pod;
  if (record.probed != attempt.uuid()) {
    StopProbes(record);
    record.probed = attempt.uuid();
    record.probe_ip = PodProbeIp(attempt.pod, pod.spec.host_network);
    for (const kube::Container& container : pod.spec.containers) {
      ArmProbes(record, container);
    }
    WriteStatus(record);
  }
  bool rearmed = false;
  for (const kube::Container& container : pod.spec.containers) {
    const AppRun run = AppRunOf(attempt.pod, container.name);
    if (run.started_at_ns == 0) {
      continue;  // not started yet, or its start time unknown
    }
    int64_t& armed = record.probed_runs[container.name];
    const bool probed =
        container.startup_probe || container.liveness_probe || container.readiness_probe;
    if (probed && armed != 0 && armed != run.started_at_ns) {
      log::Info("pod {}: container {} restarted: its probes start over", record.key,
                container.name);
      RetireProbes(record, container.name);
      ArmProbes(record, container);
      rearmed = true;
    }
    armed = run.started_at_ns;
  }
  if (rearmed) {
    WriteStatus(record);
  }
  for (auto& probe : record.probes) {
    const AppRun run = AppRunOf(attempt.pod, probe.second->container());
    probe.second->SetContainer(run.running, run.started_at_ns);
  }
}

void Agent::HandleProbe(const ProbeUpdate& update) {
  auto it = records_.find(update.pod_key);
  if (it == records_.end() || it->second.probed != update.pod_uuid) {
    return;  // a worker of an attempt that is gone
  }
  PodRecord& record = it->second;
  if (std::ranges::none_of(record.probes,
                           [&](const auto& probe) { return probe.first == update.serial; })) {
    return;  // a retired worker's last word (its container restarted since)
  }
  const char* kind = ProbeKindName(update.kind);
  switch (update.outcome) {
    case ProbeUpdate::Outcome::kFailedOnce:
      AddEvent(record, "Warning", "Unhealthy",
               fmt::format("{} probe failed: {}", kind, update.message));
      return;
    case ProbeUpdate::Outcome::kFailed:
      if (update.kind == ProbeKind::kReadiness) {
        record.readiness[update.container] = false;
        WriteStatus(record);
        return;
      }
      AddEvent(record, "Normal", "Killing",
               fmt::format("Container {} failed {} probe, will be restarted", update.container,
                           update.kind == ProbeKind::kLiveness ? "liveness" : "startup"));
      record.kill_requested = record.probed;
      sync_due_ = Clock::now();
      return;
    case ProbeUpdate::Outcome::kSucceeded:
      if (update.kind == ProbeKind::kReadiness) {
        record.readiness[update.container] = true;
        WriteStatus(record);
        return;
      }
      if (update.kind == ProbeKind::kStartup && record.desired) {
        for (const kube::Container& container : record.desired->pod.spec.containers) {
          if (container.name == update.container) {
            log::Info("pod {}: container {} started (startup probe)", record.key, container.name);
            AddProbe(record, ProbeKind::kLiveness, container);
            AddProbe(record, ProbeKind::kReadiness, container);
          }
        }
        sync_due_ = Clock::now();  // tells the new workers whether the container runs
      }
      return;
  }
}

}  // namespace comet::node
