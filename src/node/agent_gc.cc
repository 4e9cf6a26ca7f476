// The agent's garbage collection (see agent.h), as rktnetes' GarbageCollect did it: exited
// attempts of a Kubernetes pod beyond the newest few (kept for its status and logs), prepared
// attempts left behind by an agent that stopped before starting them, and k8s_*.service units
// with no comet pod. Pods whose Kubernetes pod is gone are removed by the sync itself.
#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "node/agent.h"
#include "node/unit_file.h"

namespace comet::node {

void Agent::CollectAttempts(PodRecord& record, const std::vector<Attempt>& attempts) {
  if (record.operation || attempts.size() < 2) {
    return;
  }
  std::vector<std::string> remove;
  for (size_t i = 0; i + 1 < attempts.size(); ++i) {
    const AttemptPhase phase = PhaseOf(attempts[i].pod, std::nullopt);
    const bool beyond_kept = i + options_.keep_attempts < attempts.size();
    if ((phase == AttemptPhase::kExited && beyond_kept) || phase == AttemptPhase::kPrepared) {
      remove.push_back(attempts[i].uuid());
    }
  }
  if (remove.empty()) {
    return;
  }
  log::Info("pod {}: removing {} old comet pod(s)", record.key, remove.size());
  StopPods(record, {}, std::move(remove), /*hooks=*/false, "gc");
}

void Agent::CollectOrphanUnits(const std::vector<v1alpha::Pod>& listed) {
  // A start in progress writes its unit right after preparing the pod, which this sync's list
  // may not show yet.
  for (const auto& [key, record] : records_) {
    if (record.operation && record.operation->what == "start") {
      return;
    }
  }
  auto known = supervision_->KnownPods();
  if (!known) {
    log::Warning("listing pod units: {}", known.error().ToString());
    return;
  }
  std::set<std::string> ids;
  for (const v1alpha::Pod& pod : listed) {
    ids.insert(pod.id());
  }
  const auto now = std::chrono::system_clock::now();
  for (const std::string& uuid : *known) {
    if (ids.contains(uuid)) {
      continue;
    }
    auto written = supervision_->UnitFileTime(uuid);
    if (written && now - *written < options_.orphan_unit_age) {
      continue;
    }
    // Not among the agent's pods; orphaned only if no comet pod at all has the UUID.
    auto pod = api_.InspectPod(uuid);
    if (pod || pod.error().code() != ENOENT) {
      continue;
    }
    if (auto state = supervision_->State(uuid);
        state && *state && (*state)->active_state != "inactive" &&
        (*state)->active_state != "failed" && (*state)->load_state != "not-found") {
      if (Status stopped = supervision_->Stop(uuid, kMinTimeoutStopSec); !stopped) {
        log::Warning("orphaned unit {}: {}", UnitName(uuid), stopped.error().ToString());
        continue;
      }
    }
    if (Status forgotten = supervision_->Forget(uuid); !forgotten) {
      log::Warning("orphaned unit {}: {}", UnitName(uuid), forgotten.error().ToString());
      continue;
    }
    log::Warning("removed orphaned unit {} (no comet pod {})", UnitName(uuid), uuid);
  }
}

}  // namespace comet::node
