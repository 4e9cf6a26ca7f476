// The agent's observed state: the comet pods ("attempts") that ran each Kubernetes pod, as the
// api-service lists them, with what systemd says of the newest one's unit, and the phase the
// agent acts on. The agent's own annotations on the comet pods it prepares live here too. Pure
// functions on plain data; thread-safe.
#ifndef COMET_NODE_POD_ATTEMPTS_H_
#define COMET_NODE_POD_ATTEMPTS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/restart_policy.h"
#include "node/systemd_manager.h"
#include "v1alpha/api.pb.h"

namespace comet::node {

// The hash of the manifest a comet pod was prepared from (desired_pods.h PodHash): only the
// agent writes it, so it also tells the agent's pods from those `comet play` made by hand.
inline constexpr const char* kPodHashAnnotation = "comet.dev/pod-hash";
// rktnetes' attempt counter: 0 for the first comet pod of a Kubernetes pod, then +1 for each.
inline constexpr const char* kRestartCountAnnotation = "rkt.kubernetes.io/restart-count";

struct Attempt {
  v1alpha::Pod pod;
  std::string hash;               // kPodHashAnnotation
  int restart_count = 0;          // kRestartCountAnnotation
  std::optional<UnitState> unit;  // systemd's view (the newest attempt only; none for direct)
  [[nodiscard]] const std::string& uuid() const { return pod.id(); }
};

// What the agent does with an attempt.
enum class AttemptPhase {
  kPrepared,  // prepared and never started: start it
  kStarting,  // its unit runs but the supervisor has not taken the pod yet: wait
  kRunning,   // probe it
  kExited,    // apply the restart policy
  kUnknown,   // a state the agent does not act on (embryo, being prepared, ...)
};
[[nodiscard]] const char* AttemptPhaseName(AttemptPhase phase);

// The phase from the api-service's state and, when there is one, the unit's: a prepared pod
// whose unit ran and ended (run-prepared failed) has exited; one whose unit runs is starting.
[[nodiscard]] AttemptPhase PhaseOf(const v1alpha::Pod& pod, const std::optional<UnitState>& unit);

// The agent's attempts by Kubernetes pod ("namespace/name"), each oldest first: the pods among
// `pods` that carry kPodHashAnnotation (GroupByKubePod's grouping and order).
[[nodiscard]] std::map<std::string, std::vector<Attempt>> GroupAttempts(
    const std::vector<v1alpha::Pod>& pods);

// How each app of an exited attempt ended (init containers included).
[[nodiscard]] std::vector<AppEnd> AppEnds(const v1alpha::Pod& pod);
// "web: exit 1, side: exit 0" / "unit result exit-code" for events.
[[nodiscard]] std::string DescribeExit(const Attempt& attempt);

// When the attempt started and ended as far as the api-service and systemd tell (0: unknown).
[[nodiscard]] std::chrono::milliseconds RanFor(const Attempt& attempt, int64_t now_ns);

// The app's run: whether it runs now, and since when (ns since the epoch, 0 unknown), from the
// api-service's app annotations.
struct AppRun {
  bool running = false;
  int64_t started_at_ns = 0;
};
[[nodiscard]] AppRun AppRunOf(const v1alpha::Pod& pod, const std::string& app);

// An annotation of the pod (empty when absent).
[[nodiscard]] std::string PodAnnotation(const v1alpha::Pod& pod, const std::string& key);

}  // namespace comet::node

#endif  // COMET_NODE_POD_ATTEMPTS_H_
