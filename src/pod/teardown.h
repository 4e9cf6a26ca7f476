// Undoing what a pod left on the host, for `gc`'s sweep, `rm`, `run --rm` and failed runs: app
// processes still alive, its networks, their cgroups, mounts under the pod directory, snapshots,
// the image lease. Safe to run any number of times and on a half-made pod (a crash at any step).
// Not thread-safe (one teardown per pod at a time: the caller holds the pod's lock).
#ifndef COMET_POD_TEARDOWN_H_
#define COMET_POD_TEARDOWN_H_

#include <string>

#include "base/result.h"

namespace comet::pod {

struct TeardownOptions {
  // The image store whose "pod-<uuid>" lease is released; empty: leave the lease alone.
  std::string image_store_dir;
  // Running in the pod owner's user namespace (rootless): subordinate-owned files can be removed.
  bool rootless = false;
};

// Kills whatever is left of the pod's containers (runtime state under RuntimeRoot: SIGKILL to
// their cgroups or init pids, then the runtime's delete), DELs the networks still recorded
// (pod_networks.h: the supervisor died before it could), removes the pod cgroup
// (PodCgroupPath) in every hierarchy, unmounts anything still mounted at or below `pod_dir`
// (deepest first, MNT_DETACH when busy), removes app snapshots (image::RemoveSnapshot) and
// releases the image lease, then removes the pod's volatile directory on tmpfs (statuses,
// runtime state: RemoveVolatileDir). Does not remove `pod_dir` itself (PodStore::Remove does)
// nor the manifest, logs or statuses persisted on disk. Errors are collected: every step is tried,
// the first error is returned.
[[nodiscard]] Status TeardownPod(const std::string& pod_dir, const std::string& uuid,
                                 const TeardownOptions& options);

}  // namespace comet::pod

#endif  // COMET_POD_TEARDOWN_H_
