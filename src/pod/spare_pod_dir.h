// Spare pod directories: a pod its supervisor removes at its end (`run --rm`) leaves its emptied
// directory, with its empty apps/ (and volumes/), in <data dir>/pod-spares/, and the next pod
// created takes one by a rename instead of making them. On a data directory mounted with `discard`,
// each directory removed waits for a discard; ext4 without a journal searches past the inodes freed
// in the last minutes at each one made. Safe across processes: the renames decide who takes a
// spare.
#ifndef COMET_POD_SPARE_POD_DIR_H_
#define COMET_POD_SPARE_POD_DIR_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::pod {

// The most spares kept: more pods ending at once are removed as before.
inline constexpr size_t kMaxSparePodDirs = 64;
// How long a spare rests before a new pod takes it: the pod that left it may have waiters on its
// lock (`status --wait`, `stop`) not yet run since its supervisor exited, which a new pod's lock
// on the same directory would keep waiting. Pods starting faster than one per 100 ms find older
// spares (up to 64 kept).
inline constexpr std::chrono::milliseconds kSpareQuarantine{100};

// pod-spares beside the pods directory (<data dir>/pod-spares, 0700, never shared with a group):
// out of the pods tree, which holds only pods.
[[nodiscard]] std::string SparePodDirsPath(const std::string& pods_dir);

// Empties the pod directory `pod_dir` but for apps/ and volumes/ when they are empty directories,
// then renames it to <pod-spares>/<uuid>. The caller holds the pod's lock and tore the pod down
// (nothing is mounted below it). When it cannot be kept (the pool is full, a rename fails), it is
// removed (os::RemoveAll); an error says what could not be removed.
[[nodiscard]] Status RecyclePodDir(const std::string& pods_dir, const std::string& pod_dir,
                                   const std::string& uuid);

namespace internal {

// Renames a spare to `embryo` (never replacing anything there) when one fits what
// mkdir(embryo, 0750) would make now: this user's directory, with the group of the embryo
// directory (and its setgid bit) when that is setgid, else this process's, holding nothing but
// empty apps/ and volumes/ of this user that no one else may write to; its mode is set to 0750
// less the umask. A spare that does not fit (or is not a directory) is removed; one whose pod
// still holds its lock (exiting), or that rests less than kSpareQuarantine, is left for later.
// Returns the directory's fd, locked exclusively (before the rename: the new pod is never
// unlocked), or nullopt when none was taken.
[[nodiscard]] std::optional<os::UniqueFd> TakeSparePodDir(const std::string& pods_dir,
                                                          const std::string& embryo);

}  // namespace internal

}  // namespace comet::pod

#endif  // COMET_POD_SPARE_POD_DIR_H_
