// Small pieces shared by the files of the Pod conversion (to_comet.cc, env_resolve.cc,
// volumes_convert.cc, ...): field paths, errors that name them, lookups of the file's ConfigMaps
// and Secrets. Internal to the kube layer; thread-safe (pure functions).
#ifndef COMET_KUBE_CONVERT_INTERNAL_H_
#define COMET_KUBE_CONVERT_INTERNAL_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.h"
#include "kube/objects.h"

namespace comet::kube::internal {

// "spec.containers[1]" / "spec.initContainers[0]".
std::string ContainerField(bool init, size_t index);
// "<field>[<index>]".
std::string Indexed(std::string_view field, size_t index);
// An EINVAL error "<field>: <what>".
Error FieldError(std::string_view field, std::string_view what);

// The ConfigMap or Secret named `name` in namespace `ns`, or null. Objects are matched by
// namespace as the API server would: a Pod sees only those of its own namespace.
const ConfigMap* FindConfigMap(const Objects& objects, std::string_view ns, std::string_view name);
const Secret* FindSecret(const Objects& objects, std::string_view ns, std::string_view name);

// A relative path with no "." or ".." component, no empty component and no control byte: what
// a configMap item's path, a seed file's path and a volumeMount's subPath may be.
bool IsCleanRelativePath(std::string_view path);
bool IsCleanAbsolutePath(std::string_view path);

}  // namespace comet::kube::internal

#endif  // COMET_KUBE_CONVERT_INTERNAL_H_
