// Attempts and their phases (see pod_attempts.h).
#include "node/pod_attempts.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "node/pod_status.h"
#include "pod/app_annotations.h"

namespace comet::node {
namespace {

std::string AppAnnotation(const v1alpha::App& app, const std::string& key) {
  for (const v1alpha::KeyValue& kv : app.annotations()) {
    if (kv.key() == key) {
      return kv.value();
    }
  }
  return "";
}

int64_t ToNs(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
}

}  // namespace

const char* AttemptPhaseName(AttemptPhase phase) {
  switch (phase) {
    case AttemptPhase::kPrepared:
      return "prepared";
    case AttemptPhase::kStarting:
      return "starting";
    case AttemptPhase::kRunning:
      return "running";
    case AttemptPhase::kExited:
      return "exited";
    case AttemptPhase::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string PodAnnotation(const v1alpha::Pod& pod, const std::string& key) {
  for (const v1alpha::KeyValue& kv : pod.annotations()) {
    if (kv.key() == key) {
      return kv.value();
    }
  }
  return "";
}

AttemptPhase PhaseOf(const v1alpha::Pod& pod, const std::optional<UnitState>& unit) {
  switch (pod.state()) {
    case v1alpha::POD_STATE_RUNNING:
      return AttemptPhase::kRunning;
    case v1alpha::POD_STATE_EXITED:
    case v1alpha::POD_STATE_ABORTED_PREPARE:
    case v1alpha::POD_STATE_DELETING:
    case v1alpha::POD_STATE_GARBAGE:
      return AttemptPhase::kExited;
    case v1alpha::POD_STATE_PREPARED: {
      if (!unit || unit->load_state == "not-found") {
        return AttemptPhase::kPrepared;
      }
      const bool ended = unit->active_state == "inactive" || unit->active_state == "failed";
      if (!ended) {
        return AttemptPhase::kStarting;
      }
      // Ran (it has an invocation) and ended without the supervisor taking the pod.
      return unit->invocation_id.empty() ? AttemptPhase::kPrepared : AttemptPhase::kExited;
    }
    default:
      return AttemptPhase::kUnknown;
  }
}

std::map<std::string, std::vector<Attempt>> GroupAttempts(const std::vector<v1alpha::Pod>& pods) {
  std::vector<v1alpha::Pod> ours;
  for (const v1alpha::Pod& pod : pods) {
    if (!PodAnnotation(pod, kPodHashAnnotation).empty()) {
      ours.push_back(pod);
    }
  }
  std::map<std::string, std::vector<Attempt>> out;
  for (auto& [key, group] : GroupByKubePod(ours)) {
    std::vector<Attempt>& attempts = out[key];
    for (v1alpha::Pod& pod : group) {
      Attempt attempt;
      attempt.hash = PodAnnotation(pod, kPodHashAnnotation);
      attempt.restart_count =
          static_cast<int>(ParseInt(PodAnnotation(pod, kRestartCountAnnotation)).value_or(0));
      attempt.pod = std::move(pod);
      attempts.push_back(std::move(attempt));
    }
  }
  return out;
}

std::vector<AppEnd> AppEnds(const v1alpha::Pod& pod) {
  std::vector<AppEnd> ends;
  for (const v1alpha::App& app : pod.apps()) {
    AppEnd end;
    end.exited = app.state() == v1alpha::APP_STATE_EXITED;
    end.exit_code = app.exit_code();
    ends.push_back(end);
  }
  return ends;
}

std::string DescribeExit(const Attempt& attempt) {
  std::vector<std::string> parts;
  for (const v1alpha::App& app : attempt.pod.apps()) {
    if (app.state() == v1alpha::APP_STATE_EXITED) {
      parts.push_back(fmt::format("{}: exit {}", app.name(), app.exit_code()));
    } else {
      parts.push_back(
          fmt::format("{}: {}", app.name(),
                      app.state() == v1alpha::APP_STATE_RUNNING ? "running" : "not started"));
    }
  }
  std::string text = parts.empty() ? "no apps" : Join(parts, ", ");
  if (attempt.unit && !attempt.unit->result.empty() && attempt.unit->result != "success") {
    text += fmt::format("; unit result {}", attempt.unit->result);
  }
  return text;
}

std::chrono::milliseconds RanFor(const Attempt& attempt, int64_t now_ns) {
  const int64_t started = attempt.pod.started_at();
  if (started <= 0) {
    return std::chrono::milliseconds(0);
  }
  int64_t ended = now_ns;
  if (attempt.unit) {
    const int64_t inactive = ToNs(attempt.unit->inactive_enter);
    if (inactive > started) {
      ended = inactive;
    }
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(std::max<int64_t>(ended - started, 0)));
}

AppRun AppRunOf(const v1alpha::Pod& pod, const std::string& app_name) {
  AppRun run;
  for (const v1alpha::App& app : pod.apps()) {
    if (app.name() != app_name) {
      continue;
    }
    run.running = app.state() == v1alpha::APP_STATE_RUNNING;
    if (auto started = ParseRfc3339(AppAnnotation(app, pod::kAppStartedAtAnnotation))) {
      run.started_at_ns = ToNs(*started);
    }
    break;
  }
  return run;
}

}  // namespace comet::node
