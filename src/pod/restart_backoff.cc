// Backoff and ShouldRestart; see restart_backoff.h.
#include "pod/restart_backoff.h"

#include <cstdlib>
#include <optional>

#include "base/strings.h"

namespace comet::pod {
namespace {

std::optional<std::chrono::milliseconds> MillisFromEnv(const char* name) {
  const char* text = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): single-threaded
  if (text == nullptr) {
    return std::nullopt;
  }
  auto value = ParseUint(text);
  if (!value || *value == 0 || *value > 24ULL * 3600 * 1000) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(*value));
}

}  // namespace

BackoffPolicy BackoffPolicy::FromEnvironment() {
  BackoffPolicy policy;
  if (auto base = MillisFromEnv("COMET_BACKOFF_BASE_MS")) {
    policy.base = *base;
  }
  if (auto max = MillisFromEnv("COMET_BACKOFF_MAX_MS")) {
    policy.max = *max;
  }
  if (policy.max < policy.base) {
    policy.max = policy.base;
  }
  policy.reset_after = 2 * policy.max;
  return policy;
}

std::chrono::milliseconds Backoff::Next(std::chrono::milliseconds ran_for) {
  if (ran_for >= policy_.reset_after) {
    failures_ = 0;
  }
  std::chrono::milliseconds delay = policy_.base;
  for (int i = 0; i < failures_ && delay < policy_.max; ++i) {
    delay *= 2;
  }
  if (delay > policy_.max) {
    delay = policy_.max;
  }
  if (failures_ < 64) {
    ++failures_;
  }
  return delay;
}

bool ShouldRestart(RestartPolicy policy, int exit_code) {
  switch (policy) {
    case RestartPolicy::kNever:
      return false;
    case RestartPolicy::kOnFailure:
      return exit_code != 0;
    case RestartPolicy::kAlways:
      return true;
  }
  return false;
}

}  // namespace comet::pod
