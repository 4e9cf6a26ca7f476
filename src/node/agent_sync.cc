// The agent's sync (see agent.h): desired state from the manifest directory, observed state from
// the api-service and systemd, and one decision per Kubernetes pod.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "kube/to_comet.h"
#include "node/agent.h"
#include "node/agent_pod_file.h"
#include "node/unit_file.h"

namespace comet::node {
namespace {

using std::chrono::milliseconds;

// How long a started pod may be missing from the api-service's list before the agent believes it.
constexpr milliseconds kListingDelay{10'000};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Seconds(milliseconds duration) {
  return fmt::format("{:.3g}s", static_cast<double>(duration.count()) / 1000.0);
}

}  // namespace

void Agent::AddEvent(const PodRecord& record, std::string_view type, std::string_view reason,
                     const std::string& message) {
  events_.Record(record.namespace_name, record.name, type, reason, message);
}

void Agent::WriteStatus(const PodRecord& record) const {
  const DesiredPod* pod =
      record.desired ? &*record.desired : (record.last_desired ? &*record.last_desired : nullptr);
  AgentPodFile file;
  file.pod_uuid = record.probed;
  file.restart_policy = pod != nullptr ? pod->pod.spec.restart_policy : "";
  file.host_network = pod != nullptr && pod->pod.spec.host_network;
  file.terminating = record.terminating;
  file.readiness = record.readiness;
  if (Status written =
          WriteAgentPodFile(options_.root_dir, record.namespace_name, record.name, file);
      !written) {
    log::Warning("pod {}: {}", record.key, written.error().ToString());
  }
}

Agent::PodRecord& Agent::RecordFor(const std::string& key) {
  auto it = records_.find(key);
  if (it != records_.end()) {
    return it->second;
  }
  PodRecord& record = records_[key];
  record.key = key;
  const size_t slash = key.find('/');
  record.namespace_name = key.substr(0, slash);
  record.name = key.substr(slash + 1);
  record.backoff = pod::Backoff(options_.backoff);
  return record;
}

void Agent::LoadDesired() {
  std::vector<std::string> problems;
  desired_ = manifests_.Load(&problems);
  manifests_dirty_ = false;
  // Each problem once while it lasts (a resync every few seconds must not repeat it).
  std::set<std::string> now(problems.begin(), problems.end());
  for (const std::string& problem : now) {
    if (!problems_.contains(problem)) {
      log::Warning("{}", problem);
    }
  }
  problems_ = std::move(now);
}

void Agent::Sync() {
  if (manifests_dirty_) {
    LoadDesired();
  }
  const bool failed_before = last_sync_failed_;
  last_sync_failed_ = true;
  if (Status st = EnsureSupervision(); !st) {
    if (!failed_before) {
      log::Warning("pod supervision: {}; trying again at the next sync", st.error().ToString());
    }
    return;
  }
  PodQuery query;
  query.annotations[kube::kManagedByAnnotation] = "true";
  auto listed = api_.ListPods(query);
  if (!listed) {
    if (api_up_) {
      log::Warning("api-service at {}: {}; pods are left as they are until it answers",
                   options_.api_endpoint, listed.error().ToString());
      api_up_ = false;
    }
    return;
  }
  if (!api_up_) {
    log::Info("api-service at {} answers again", options_.api_endpoint);
    api_up_ = true;
  }
  last_sync_failed_ = false;
  std::map<std::string, std::vector<Attempt>> groups = GroupAttempts(*listed);

  std::set<std::string> keys;
  for (const auto& [key, pod] : desired_) {
    keys.insert(key);
  }
  for (const auto& [key, attempts] : groups) {
    keys.insert(key);
  }
  for (const auto& [key, record] : records_) {
    keys.insert(key);
  }
  std::vector<Attempt> none;
  for (const std::string& key : keys) {
    PodRecord& record = RecordFor(key);
    auto want = desired_.find(key);
    if (want != desired_.end()) {
      record.desired = want->second;
    } else {
      record.desired.reset();
    }
    auto group = groups.find(key);
    std::vector<Attempt>& attempts = group != groups.end() ? group->second : none;
    if (!attempts.empty()) {
      auto state = supervision_->State(attempts.back().uuid());
      if (!state) {
        log::Warning("pod {}: {}", key, state.error().ToString());
        continue;  // systemd will answer at the next sync
      }
      attempts.back().unit = std::move(*state);
    }
    Reconcile(record, attempts);
    if (!record.operation) {
      CollectAttempts(record, attempts);
    }
  }
  // Records of pods that are gone (no manifest, no attempt, nothing in progress).
  for (auto it = records_.begin(); it != records_.end();) {
    PodRecord& record = it->second;
    if (record.desired || record.operation || groups.contains(it->first)) {
      ++it;
      continue;
    }
    StopProbes(record);
    events_.Forget(record.namespace_name, record.name);
    RemoveAgentPodFile(options_.root_dir, record.namespace_name, record.name);
    log::Info("pod {}: removed", it->first);
    it = records_.erase(it);
  }
  CollectOrphanUnits(*listed);
  first_sync_ = false;
}

void Agent::Adopt(PodRecord& record, const Attempt& attempt) {
  if (record.known.insert(attempt.uuid()).second) {
    // A pod started by an earlier run of the agent (or before a restart of it): it keeps
    // running as it is; its postStart hooks ran back then.
    AddEvent(record, "Normal", "Adopted",
             fmt::format("Adopted running comet pod {} (restart {})", attempt.uuid(),
                         attempt.restart_count));
  }
}

namespace {

// The UUIDs of `attempts` that run (or are starting), and of all of them.
std::pair<std::vector<std::string>, std::vector<std::string>> RunningAndAll(
    const std::vector<Attempt>& attempts) {
  std::vector<std::string> running;
  std::vector<std::string> all;
  for (const Attempt& attempt : attempts) {
    const AttemptPhase phase = PhaseOf(attempt.pod, attempt.unit);
    if (phase == AttemptPhase::kRunning || phase == AttemptPhase::kStarting) {
      running.push_back(attempt.uuid());
    }
    all.push_back(attempt.uuid());
  }
  return {std::move(running), std::move(all)};
}

}  // namespace

void Agent::RemovePod(PodRecord& record, const std::vector<Attempt>& attempts) {
  auto [running, all] = RunningAndAll(attempts);
  StopProbes(record);
  record.terminating = true;
  record.restart_pending = false;
  record.kill_requested.clear();
  WriteStatus(record);
  AddEvent(record, "Normal", "Killing", "Stopping pod: its manifest was removed");
  StopPods(record, std::move(running), std::move(all), /*hooks=*/true, "remove");
}

void Agent::ReplacePod(PodRecord& record, const std::vector<Attempt>& attempts) {
  auto [running, all] = RunningAndAll(attempts);
  // The old spec's preStop hooks, when the agent still knows it.
  const bool old_spec_known =
      record.last_desired && record.last_desired->hash == attempts.back().hash;
  StopProbes(record);
  record.backoff = pod::Backoff(options_.backoff);
  record.restart_pending = false;
  record.exit_seen.clear();
  record.kill_requested.clear();
  record.killed_for_restart.clear();
  AddEvent(record, "Normal", "Killing",
           fmt::format("Replacing pod: {} changed", record.desired->file));
  StopPods(record, std::move(running), std::move(all), old_spec_known, "replace");
}

bool Agent::AwaitListing(PodRecord& record, const std::vector<Attempt>& attempts) {
  if (record.started.empty()) {
    return false;
  }
  const bool listed = std::ranges::any_of(
      attempts, [&](const Attempt& attempt) { return attempt.uuid() == record.started; });
  if (!listed && Clock::now() - record.started_at < kListingDelay) {
    log::Debug("pod {}: waiting for the api-service to list {}", record.key, record.started);
    return true;
  }
  record.started.clear();
  return false;
}

void Agent::Reconcile(PodRecord& record, std::vector<Attempt>& attempts) {
  if (record.operation) {
    return;  // its end triggers the next sync
  }
  if (!record.desired) {
    if (!attempts.empty()) {
      RemovePod(record, attempts);  // removed from the manifest directory
    }
    return;
  }
  const DesiredPod& want = *record.desired;
  record.terminating = false;
  // The pod the last start made must show before anything else is decided: a start from a list
  // that lacks it would prepare a second one.
  if (AwaitListing(record, attempts)) {
    return;
  }
  // Attempts no longer listed were removed: `known` stays as small as the list (a crash-looping
  // pod would grow it by one per restart).
  std::erase_if(record.known, [&](const std::string& uuid) {
    return uuid != record.started &&
           std::ranges::none_of(attempts, [&](const Attempt& a) { return a.uuid() == uuid; });
  });
  if (attempts.empty()) {
    record.last_desired = want;
    if (record.restart_pending && Clock::now() < record.restart_at) {
      return;
    }
    record.restart_pending = false;
    StartPod(record, 0, "", {});
    return;
  }
  if (attempts.back().hash != want.hash) {
    // The manifest changed: stopped, removed with all its attempts, started afresh once gone.
    ReplacePod(record, attempts);
    return;
  }
  record.last_desired = want;
  ActOnNewest(record, attempts);
}

void Agent::ActOnNewest(PodRecord& record, std::vector<Attempt>& attempts) {
  const Attempt& newest = attempts.back();
  const AttemptPhase phase = PhaseOf(newest.pod, newest.unit);
  log::Debug("pod {}: attempt {} is {}", record.key, newest.uuid(), AttemptPhaseName(phase));
  switch (phase) {
    case AttemptPhase::kPrepared:
      // Prepared by an agent that stopped before starting it, or whose start failed: start it
      // (after the back-off of a failed start).
      if (record.restart_pending && Clock::now() < record.restart_at) {
        return;
      }
      record.restart_pending = false;
      StartPod(record, newest.restart_count, newest.uuid(), {});
      return;
    case AttemptPhase::kStarting:
    case AttemptPhase::kUnknown:
      record.restart_pending = false;
      return;
    case AttemptPhase::kRunning:
      record.restart_pending = false;
      Adopt(record, newest);
      if (record.kill_requested == newest.uuid()) {
        record.kill_requested.clear();
        record.killed_for_restart = newest.uuid();
        StopProbes(record);
        StopPods(record, {newest.uuid()}, {}, /*hooks=*/true, "stop");
        return;
      }
      EnsureProbes(record, newest);
      return;
    case AttemptPhase::kExited:
      record.kill_requested.clear();
      if (!record.probed.empty()) {
        StopProbes(record);
        WriteStatus(record);
      }
      HandleExit(record, attempts);
      return;
  }
}

void Agent::HandleExit(PodRecord& record, std::vector<Attempt>& attempts) {
  const Attempt& newest = attempts.back();
  const std::string& policy = record.desired->pod.spec.restart_policy;
  if (record.exit_seen != newest.uuid()) {
    record.exit_seen = newest.uuid();
    const bool restart = record.killed_for_restart == newest.uuid()
                             ? policy != "Never"
                             : ShouldRestartPod(policy, AppEnds(newest.pod));
    const bool failed = std::ranges::any_of(
        AppEnds(newest.pod), [](const AppEnd& end) { return !end.exited || end.exit_code != 0; });
    AddEvent(record, failed ? "Warning" : "Normal", "Exited",
             fmt::format("comet pod {} exited ({}); restartPolicy {}: {}", newest.uuid(),
                         DescribeExit(newest), policy, restart ? "restarting" : "not restarted"));
    record.restart_pending = restart;
    if (restart) {
      const milliseconds delay = record.backoff.Next(RanFor(newest, NowNs()));
      record.restart_at = Clock::now() + delay;
      AddEvent(record, "Warning", "BackOff",
               fmt::format("Back-off {} restarting failed pod", Seconds(delay)));
    }
  }
  if (!record.restart_pending || Clock::now() < record.restart_at) {
    return;
  }
  record.restart_pending = false;
  // Pods of this Kubernetes pod that are prepared (the newest, when its unit failed to start
  // it) would make `comet play` refuse the name: removed before the new attempt is prepared.
  std::vector<std::string> remove_first;
  int restart_count = 0;
  for (const Attempt& attempt : attempts) {
    restart_count = std::max(restart_count, attempt.restart_count + 1);
    if (attempt.pod.state() == v1alpha::POD_STATE_PREPARED) {
      remove_first.push_back(attempt.uuid());
    }
  }
  StartPod(record, restart_count, "", std::move(remove_first));
}

}  // namespace comet::node
