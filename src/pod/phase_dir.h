// The pieces of the pods directory that pod_store.cc and pod_store_list.cc share: a pod's path in
// a phase directory, flock(2) on the pod directory, and rename(2) between phases. Stateless;
// safe across threads and processes.
#ifndef COMET_POD_PHASE_DIR_H_
#define COMET_POD_PHASE_DIR_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::pod::internal {

inline constexpr const char* kEmbryo = "embryo";
inline constexpr const char* kPrepare = "prepare";
inline constexpr const char* kPrepared = "prepared";
inline constexpr const char* kRun = "run";
inline constexpr const char* kExitedGarbage = "exited-garbage";
inline constexpr const char* kGarbage = "garbage";

// <root>/<phase>/<uuid>.
[[nodiscard]] std::string PodPath(const std::string& root, std::string_view phase,
                                  std::string_view uuid);

// Invalid unless `uuid` is a pod uuid (so that it cannot name a path outside the pods dir).
[[nodiscard]] Status CheckUuid(std::string_view uuid);

// The pod directory itself, for locking: the lock follows the inode through renames.
[[nodiscard]] Result<os::UniqueFd> OpenPodDir(const std::string& path);

// flock(2) retried on EINTR; 0 or the errno.
[[nodiscard]] int Flock(int fd, int op);

// LOCK_EX | LOCK_NB, retried for a moment; 0 or the errno (EWOULDBLOCK: really held).
[[nodiscard]] int TryLockExclusive(int fd);

// rename(2) that never replaces: a directory may be renamed over an empty one, which must not
// happen to a pod. Falls back to rename(2) where RENAME_NOREPLACE is not supported. 0 or the
// errno.
[[nodiscard]] int RenameNoReplace(const std::string& from, const std::string& to);

// Renames <root>/<from>/<uuid> to <root>/<to>/<uuid>, never replacing anything there.
[[nodiscard]] Status Move(const std::string& root, std::string_view uuid, std::string_view from,
                          std::string_view to);

// <root>/<phase>/<uuid> opened and locked exclusively with TryLockExclusive. nullopt when the
// pod is not in that phase; EBUSY "pod <uuid> is <held_as> by another process" when someone
// else holds the lock.
[[nodiscard]] Result<std::optional<os::UniqueFd>> LockInPhase(const std::string& root,
                                                              std::string_view phase,
                                                              std::string_view uuid,
                                                              std::string_view held_as);

}  // namespace comet::pod::internal

#endif  // COMET_POD_PHASE_DIR_H_
