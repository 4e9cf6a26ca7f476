// ProbeWorker (see probe_worker.h).
#include "node/probe_worker.h"

#include <algorithm>
#include <chrono>

namespace comet::node {
namespace {

using std::chrono::milliseconds;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

milliseconds Seconds(int32_t seconds, int32_t at_least) {
  return std::chrono::seconds(std::max(seconds, at_least));
}

}  // namespace

const char* ProbeKindName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return "Startup";
    case ProbeKind::kLiveness:
      return "Liveness";
    case ProbeKind::kReadiness:
      return "Readiness";
  }
  return "?";
}

ProbeWorker::ProbeWorker(ProbeKind kind, kube::Probe probe, ProbeTarget target, std::string pod_key,
                         std::string container, CometRunner runner, ProbeSink sink)
    : kind_(kind),
      probe_(std::move(probe)),
      target_(std::move(target)),
      pod_key_(std::move(pod_key)),
      container_(std::move(container)),
      runner_(std::move(runner)),
      sink_(std::move(sink)),
      thread_([this] { Loop(); }) {}

ProbeWorker::~ProbeWorker() {
  Stop();
}

void ProbeWorker::SetContainer(bool running, int64_t started_at_ns) {
  std::lock_guard lock(mu_);
  if (running == running_ && started_at_ns == started_at_ns_) {
    return;
  }
  running_ = running;
  started_at_ns_ = started_at_ns;
  ++generation_;
  cv_.notify_all();
}

void ProbeWorker::RequestStop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

void ProbeWorker::Stop() {
  RequestStop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ProbeWorker::Post(ProbeUpdate::Outcome outcome, std::string message) {
  ProbeUpdate update;
  update.pod_key = pod_key_;
  update.pod_uuid = target_.pod_uuid;
  update.container = container_;
  update.kind = kind_;
  update.outcome = outcome;
  update.message = std::move(message);
  sink_(std::move(update));
}

bool ProbeWorker::Report(const CheckResult& result, bool enough_successes, bool final_failure,
                         bool first_final_failure, bool& ready) {
  switch (kind_) {
    case ProbeKind::kStartup:
      if (result.ok || final_failure) {
        Post(result.ok ? ProbeUpdate::Outcome::kSucceeded : ProbeUpdate::Outcome::kFailed,
             result.message);
        return true;
      }
      return false;
    case ProbeKind::kLiveness:
      if (final_failure) {
        Post(ProbeUpdate::Outcome::kFailed, result.message);
        return true;
      }
      return false;
    case ProbeKind::kReadiness:
      if (result.ok && enough_successes && !ready) {
        ready = true;
        Post(ProbeUpdate::Outcome::kSucceeded, "");
      } else if (final_failure && (ready || first_final_failure)) {
        ready = false;
        Post(ProbeUpdate::Outcome::kFailed, result.message);
      }
      return false;
  }
  return false;
}

void ProbeWorker::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [&] { return stop_ || running_; });
    if (stop_) {
      break;
    }
    if (ProbeRun(lock, generation_, started_at_ns_)) {
      // A final result: wait only for Stop (the agent replaces the pod's workers).
      cv_.wait(lock, [&] { return stop_; });
      break;
    }
  }
  finished_ = true;
}

bool ProbeWorker::ProbeRun(std::unique_lock<std::mutex>& lock, uint64_t generation,
                           int64_t started_at_ns) {
  auto same_run = [&] { return !stop_ && generation_ == generation && running_; };
  // The initial delay counts from the container's start, which may be long past (an adopted
  // pod, or a worker made at the agent's first look at a running pod).
  const int64_t start = started_at_ns > 0 ? started_at_ns : NowNs();
  const int64_t first_ns =
      start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::seconds(std::max(probe_.initial_delay_seconds, 0)))
                  .count();
  const milliseconds delay =
      std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(first_ns - NowNs()));
  if (delay.count() > 0 && cv_.wait_for(lock, delay, [&] { return !same_run(); })) {
    return false;
  }
  const milliseconds period = Seconds(probe_.period_seconds, 1);
  const milliseconds timeout = Seconds(probe_.timeout_seconds, 1);
  const int success_threshold = std::max(probe_.success_threshold, 1);
  const int failure_threshold = std::max(probe_.failure_threshold, 1);
  int successes = 0;
  int failures = 0;
  bool ready = false;  // readiness: a container is not ready until its probe succeeded
  while (same_run()) {
    lock.unlock();
    CheckResult result = RunAction(probe_.handler, target_, runner_, timeout);
    lock.lock();
    if (!same_run()) {
      return false;
    }
    if (result.ok) {
      ++successes;
      failures = 0;
    } else {
      ++failures;
      successes = 0;
    }
    const bool final_failure = !result.ok && failures >= failure_threshold;
    lock.unlock();
    if (!result.ok && failures == 1) {
      Post(ProbeUpdate::Outcome::kFailedOnce, result.message);
    }
    const bool done = Report(result, successes >= success_threshold, final_failure,
                             failures == failure_threshold, ready);
    lock.lock();
    if (done) {
      return true;
    }
    if (cv_.wait_for(lock, period, [&] { return !same_run(); })) {
      return false;
    }
  }
  return false;
}

}  // namespace comet::node
