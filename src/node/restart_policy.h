// Whole-pod restarts by the node agent: when a pod's comet pod has exited (its unit stopped, its
// supervisor died, its liveness probe failed), whether restartPolicy brings it back. The wait
// before it does is pod::Backoff, the supervisor's per-app back-off (pod/restart_backoff.h).
#ifndef COMET_NODE_RESTART_POLICY_H_
#define COMET_NODE_RESTART_POLICY_H_

#include <string_view>
#include <vector>

namespace comet::node {

// How one app of an exited comet pod ended.
struct AppEnd {
  bool exited = false;  // it ran and ended (false: never started, or still marked running)
  int exit_code = 0;
};

// The pod-level restartPolicy applied to a comet pod that exited: Always restarts it, OnFailure
// unless every app exited 0, Never (or an unknown word) never.
[[nodiscard]] bool ShouldRestartPod(std::string_view restart_policy,
                                    const std::vector<AppEnd>& apps);

}  // namespace comet::node

#endif  // COMET_NODE_RESTART_POLICY_H_
