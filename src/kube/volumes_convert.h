// A Pod's volumes as comet pod volumes, and a container's volumeMounts as its mount points:
// hostPath (a host volume and a HostPathRequirement for stage0), emptyDir (on disk, or tmpfs for
// medium Memory, 0777 as the kubelet makes it), configMap and secret (an empty volume seeded
// with the object's files, read-only, a secret's on tmpfs). Thread-safe (pure functions); secret
// contents never appear in errors or warnings.
#ifndef COMET_KUBE_VOLUMES_CONVERT_H_
#define COMET_KUBE_VOLUMES_CONVERT_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"
#include "pod/manifest.h"

namespace comet::kube {

inline constexpr const char* kSeedDir = "seed";  // seeds live in <pod dir>/seed/<volume name>

// Fills draft->pod.volumes, draft->seeds (every configMap and secret volume has an entry, empty
// for a missing optional object) and draft->host_paths from pod.spec.volumes, resolving
// configMap and secret volumes against `objects`. Errors name the field ("spec.volumes[1]
// .configMap.items[0].key: ...").
[[nodiscard]] Status ConvertVolumes(const Pod& pod, const Objects& objects, PodDraft* draft,
                                    std::vector<std::string>* warnings);

// The container's volumeMounts (of volumes in `spec`) as mount points; volumeDevices get a
// warning. `field` is the container's path ("spec.containers[0]").
[[nodiscard]] Result<std::vector<pod::MountPoint>> ConvertMounts(
    const PodSpec& spec, const Container& container, std::string_view field,
    std::vector<std::string>* warnings);

}  // namespace comet::kube

#endif  // COMET_KUBE_VOLUMES_CONVERT_H_
