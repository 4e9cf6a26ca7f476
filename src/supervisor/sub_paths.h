// Kubernetes' subPath mounts: an app mounts a path inside a volume instead of its root. The
// path is resolved inside the volume (openat2 RESOLVE_IN_ROOT: a symlink another app planted in
// a shared volume cannot lead outside it), created as a directory when missing, and bind-mounted
// by its fd onto a staging point in the pod directory, in the supervisor's private mount
// namespace; the app's spec binds the staging point. The staged mount holds the resolved
// directory itself, so swapping a component for a symlink later changes nothing. Not
// thread-safe (mounts in the supervisor's namespace).
#ifndef COMET_SUPERVISOR_SUB_PATHS_H_
#define COMET_SUPERVISOR_SUB_PATHS_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "pod/manifest.h"

namespace comet::supervisor {

// One entry per app.mounts entry: the staged source of a mount with a sub_path, "" for the
// others. Stages again (replacing an earlier staging) on every call.
[[nodiscard]] Result<std::vector<std::string>> StageSubPaths(const std::string& pod_dir,
                                                             const pod::PodManifest& manifest,
                                                             const pod::App& app);

// <pod>/subpaths/<app>/<index>: where StageSubPaths mounts app.mounts[index] (in the pod
// directory, whose leftover mounts teardown unmounts, not in the volatile state directory).
[[nodiscard]] std::string SubPathStagingPoint(const std::string& pod_dir, const std::string& app,
                                              size_t index);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_SUB_PATHS_H_
