// A pod's volatile state (statuses, pid, control socket, etc/ files, the runtime's state: what
// is rewritten often or means nothing after a reboot) lives in a per-pod directory on tmpfs,
// reached through the link <pod>/state; an exited pod that is kept gets its final statuses
// copied to disk in its place. Not thread-safe (one writer per pod: the lock holder).
#ifndef COMET_POD_VOLATILE_DIR_H_
#define COMET_POD_VOLATILE_DIR_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace comet::pod {

// <pod>/state: a symlink to <volatile root>/<uuid> while the pod runs (and after a crash), a
// directory on disk once PersistVolatileDir ran, missing before the supervisor started.
inline constexpr const char* kStateLink = "state";

// Where this process keeps pods' volatile directories: /run/comet/pods as root (in the initial
// user namespace); rootless, $XDG_RUNTIME_DIR/comet/pods or /tmp/comet-<uid>/pods (uid: ours on
// the host, also inside a rootless user namespace).
[[nodiscard]] std::string VolatileRoot();

// Makes <pod>/state point to <root>/<uuid> (uuid: the pod directory's name) and creates that
// directory, and `root` (0711, or 0700 outside /run) when missing. `root` empty: VolatileRoot().
// The link comes first, so a crash never leaves a directory that no pod leads to. Idempotent: a
// link or directory already there is kept. EPERM when the root or the pod's volatile directory
// is not a directory of ours that nobody else may write to.
[[nodiscard]] Status EnsureVolatileDir(const std::string& pod_dir, const std::string& root = "");

// The end of a pod that is kept (not --rm): copies pid, supervisor.json, supervisor-status and
// apps/*/status.json from the volatile directory to a new directory on disk (fsynced), swaps it
// with the link (renameat2 RENAME_EXCHANGE: readers see one or the other, whole), then removes
// the volatile directory. Nothing to do when <pod>/state is not a link. Call it once the pod's
// containers are deleted: their runtime state goes with the volatile directory.
[[nodiscard]] Status PersistVolatileDir(const std::string& pod_dir);

// Removes the volatile directory <pod>/state leads to, without following symlinks in it. The
// link's target is only trusted when it is an absolute path ending in /pods/<uuid> of this pod
// (`uuid`) whose two parents are directories of the pod directory's owner that nobody else may
// write to; anything else is left alone with an error (EPERM). A missing link or target is
// success.
[[nodiscard]] Status RemoveVolatileDir(const std::string& pod_dir, std::string_view uuid);

// Teardown's first step: a <pod>/state link that RemoveVolatileDir would not trust is removed
// (its target left alone) with a warning, so that nothing — killing containers by the runtime
// state behind it, above all — goes through it. A missing, trusted or persisted state is kept.
[[nodiscard]] Status DropUntrustedVolatileLink(const std::string& pod_dir, std::string_view uuid);

// `comet install`: shares the volatile directory of a pod whose directory is shared with a group
// (os/group_dir.h) as EnsureVolatileDir does for a pod made in a shared directory: the directory
// and its apps/ and apps/<app>/ get the pod directory's group (setgid, g+rx), pid, supervisor.json
// and apps/<app>/status.json g+r. Nothing when the pod directory is not shared or there is no
// volatile directory; a link RemoveVolatileDir would not trust is left alone with a warning.
[[nodiscard]] Status ShareVolatileDir(const std::string& pod_dir, std::string_view uuid);

}  // namespace comet::pod

#endif  // COMET_POD_VOLATILE_DIR_H_
