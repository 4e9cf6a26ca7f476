// A container's securityContext over its pod's, as comet app fields: user and group,
// runAsNonRoot, supplementary groups (supplementalGroups, fsGroup), capabilities (privileged,
// add, drop, as containerd applies them), readOnlyRootFilesystem, allowPrivilegeEscalation and
// the seccomp profile asked for. Thread-safe (pure functions).
#ifndef COMET_KUBE_SECURITY_CONVERT_H_
#define COMET_KUBE_SECURITY_CONVERT_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"

namespace comet::kube {

// App annotations the conversion sets (the supervisor may act on them).
inline constexpr const char* kPrivilegedAnnotation = "comet.dev/privileged";
inline constexpr const char* kNoNewPrivilegesAnnotation = "comet.dev/no-new-privileges";

// What a container's seccompProfile (else the pod's) asks for. comet's seccomp choice is
// pod-wide (pod::kSeccompAnnotation), so the caller combines the containers'.
enum class SeccompChoice { kRuntimeDefault, kUnconfined };

// Fills draft->user, group, run_as_non_root and draft->app's caps_retain, caps_remove,
// read_only_rootfs, supplementary_gids and annotations. `field` is the container's path
// ("spec.containers[0]"); errors name the offending field (runAsNonRoot with runAsUser 0, an
// unknown capability, a negative id).
[[nodiscard]] Result<SeccompChoice> ApplySecurityContext(const PodSpec& spec,
                                                         const Container& container,
                                                         std::string_view field,
                                                         ContainerDraft* draft,
                                                         std::vector<std::string>* warnings);

// The capability set comet apps get when caps_retain is empty. The same list as
// supervisor::DefaultCapabilities (supervisor/app_spec.cc), which this layer may not include
// (the supervisor is its peer); kube's tests pin it.
[[nodiscard]] const std::vector<std::string>& CometDefaultCapabilities();

}  // namespace comet::kube

#endif  // COMET_KUBE_SECURITY_CONVERT_H_
