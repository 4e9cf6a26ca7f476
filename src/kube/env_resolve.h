// A container's environment as the kubelet builds it (makeEnvironmentVariables): envFrom sources
// first, in order (ConfigMaps and Secrets of the same file, with their prefix), then env in
// order, each value $(VAR)-expanded against the entries before it; valueFrom resolved from the
// downward API, ConfigMaps and Secrets. Also the expansion of command and args against the
// result. Thread-safe (pure functions). Secret values are never put in errors or warnings.
#ifndef COMET_KUBE_ENV_RESOLVE_H_
#define COMET_KUBE_ENV_RESOLVE_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"

namespace comet::kube {

// What env values may refer to besides the container itself.
struct EnvContext {
  const ObjectMeta* meta = nullptr;  // the pod's, as converted (uid and name filled in)
  const PodSpec* spec = nullptr;
  const Objects* objects = nullptr;
  const NodeInfo* node = nullptr;  // cpu and memory filled in
};

// KEY=VALUE entries, each name once (a later entry overrides an earlier one's value and keeps
// its place). `field` is the container's path ("spec.containers[0]"); errors and warnings
// ("envFrom keys skipped", status.podIP unknown) name the entry's path. A missing ConfigMap,
// Secret or key is an error unless the reference is optional (then the entry is skipped).
[[nodiscard]] Result<std::vector<std::string>> ResolveEnv(const EnvContext& context,
                                                          const Container& container,
                                                          std::string_view field,
                                                          std::vector<std::string>* warnings);

// `args` with $(VAR) references to `env` (KEY=VALUE entries) expanded, as the kubelet does for
// command and args.
// Errors name `field` ("spec.containers[0].args") and the index.
[[nodiscard]] Result<std::vector<std::string>> ExpandArgs(const std::vector<std::string>& args,
                                                          const std::vector<std::string>& env,
                                                          const std::string& field);

}  // namespace comet::kube

#endif  // COMET_KUBE_ENV_RESOLVE_H_
