// `comet play FILE|DIR|-` (like `podman kube play`): runs the Kubernetes Pods of a YAML file (and
// the pod templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs,
// once each) as comet pods, with the ConfigMaps and Secrets of the same files; `--down` stops and
// removes them, `--replace` does that first. Each pod is made by stage0 as `comet run` makes
// one (pod_run.h), so it shows in list/status/logs/attach like any other. Not thread-safe.
#ifndef COMET_CLI_KUBE_PLAY_H_
#define COMET_CLI_KUBE_PLAY_H_

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace comet::cli {

[[nodiscard]] Result<int> RunPlay(const CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_KUBE_PLAY_H_
