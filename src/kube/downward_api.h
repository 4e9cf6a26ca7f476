// The downward API of env[].valueFrom: fieldRef (the pod's metadata, spec.nodeName,
// status.hostIP, ...) and resourceFieldRef (a container's requests and limits, limits defaulting
// to the node's allocatable as the kubelet does). Thread-safe (pure functions).
#ifndef COMET_KUBE_DOWNWARD_API_H_
#define COMET_KUBE_DOWNWARD_API_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"

namespace comet::kube {

// The value of a fieldRef's fieldPath. `meta` is the pod's metadata as converted (its uid and
// name filled in); `field` is the env entry's path ("spec.containers[0].env[2]").
// status.podIP and status.podIPs are not known before the pod starts: "" and a warning naming
// `field`. Errors (an unsupported path) name `field`.valueFrom.fieldRef.fieldPath.
[[nodiscard]] Result<std::string> FieldRefValue(const ObjectMeta& meta, const PodSpec& spec,
                                                const NodeInfo& node, std::string_view field_path,
                                                std::string_view field,
                                                std::vector<std::string>* warnings);

// The value of a resourceFieldRef, in units of its divisor rounded up (the kubelet's
// convertResourceCPUToString and convertResourceMemoryToString). `self` is the container whose
// env it is (an empty containerName); `node` must have its cpu and memory filled in. `field` is
// the selector's path ("spec.containers[0].env[2].valueFrom.resourceFieldRef").
[[nodiscard]] Result<std::string> ResourceFieldRefValue(const PodSpec& spec, const Container& self,
                                                        const ResourceFieldSelector& selector,
                                                        const NodeInfo& node,
                                                        std::string_view field);

}  // namespace comet::kube

#endif  // COMET_KUBE_DOWNWARD_API_H_
