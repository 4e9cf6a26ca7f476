// One container of a Pod as a ContainerDraft: identity, image and pull policy, restart policy,
// resources (cpu, shares, memory, oom_score_adj, devices), env, command and args, working
// directory, security context, mounts and published ports. Thread-safe (pure functions).
#ifndef COMET_KUBE_CONTAINER_CONVERT_H_
#define COMET_KUBE_CONTAINER_CONVERT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/env_resolve.h"
#include "kube/objects.h"
#include "kube/security_convert.h"
#include "kube/to_comet.h"
#include "pod/manifest.h"

namespace comet::kube {

// What every container of the pod shares.
struct ContainerContext {
  EnvContext env;  // meta, spec, objects, node (cpu and memory filled in)
  QosClass qos = QosClass::kBestEffort;
  pod::RestartPolicy restart = pod::RestartPolicy::kAlways;  // spec.restartPolicy
  // priorityClassName system-node-critical: the kubelet gives such pods the Guaranteed score.
  bool node_critical = false;
};

struct ConvertedContainer {
  ContainerDraft draft;
  SeccompChoice seccomp = SeccompChoice::kRuntimeDefault;
  bool sidecar = false;  // an init container with restartPolicy Always: run as an app
};

// `init` and `index` place the container ("spec.initContainers[0]"); errors name its fields.
[[nodiscard]] Result<ConvertedContainer> ConvertContainer(const ContainerContext& context,
                                                          const Container& container, bool init,
                                                          size_t index,
                                                          std::vector<std::string>* warnings);

// The kubelet's default imagePullPolicy: Always for ":latest" or no tag (and no digest), else
// IfNotPresent.
[[nodiscard]] std::string DefaultPullPolicy(std::string_view image);

}  // namespace comet::kube

#endif  // COMET_KUBE_CONTAINER_CONVERT_H_
