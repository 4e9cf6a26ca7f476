// Restart back-off for apps whose restart policy brings them back (the supervisor) and for whole
// Kubernetes pods (the node agent): 10 s doubling to 5 min, reset once a run lasted long enough
// (kubelet's CrashLoopBackOff numbers). Pure; value type, not thread-safe.
#ifndef COMET_POD_RESTART_BACKOFF_H_
#define COMET_POD_RESTART_BACKOFF_H_

#include <chrono>
#include <cstdint>

#include "pod/manifest.h"

namespace comet::pod {

struct BackoffPolicy {
  std::chrono::milliseconds base{10000};
  std::chrono::milliseconds max{300000};
  // A run at least this long forgets earlier failures (twice `max`: 10 min by default).
  std::chrono::milliseconds reset_after{600000};

  // The defaults, scaled by the test hooks COMET_BACKOFF_BASE_MS and COMET_BACKOFF_MAX_MS
  // (reset_after follows max). Malformed values are ignored.
  [[nodiscard]] static BackoffPolicy FromEnvironment();
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

  // The delay before the next start of an app whose last run lasted `ran_for`: base, 2*base,
  // 4*base... up to max; back to base after a run of at least reset_after.
  [[nodiscard]] std::chrono::milliseconds Next(std::chrono::milliseconds ran_for);
  void Reset() { failures_ = 0; }
  [[nodiscard]] int failures() const { return failures_; }

 private:
  BackoffPolicy policy_;
  int failures_ = 0;
};

// Whether `policy` restarts an app that exited with `exit_code`.
[[nodiscard]] bool ShouldRestart(RestartPolicy policy, int exit_code);

}  // namespace comet::pod

#endif  // COMET_POD_RESTART_BACKOFF_H_
