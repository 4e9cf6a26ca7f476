// A read-only, fd-based view of the pods directory for long-running readers (the api-service):
// the six phase directories are opened once and a pod is located or lock-probed with a few *at()
// calls, never a walk from /. Same state table as PodStore::List (rkt's). Creates and writes
// nothing. Immutable after Open: thread-safe.
#ifndef COMET_POD_POD_STORE_SCAN_H_
#define COMET_POD_POD_STORE_SCAN_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/pod_store.h"

namespace comet::pod {

inline constexpr size_t kPhaseCount = std::size(kPhaseDirs);

// The pod uuids among the entries of directory `fd`, which it takes over and closes (errors name
// `path`).
[[nodiscard]] Result<std::vector<std::string>> PodUuidsInDir(int fd, const std::string& path);

// The index of `phase` in kPhaseDirs, or kPhaseCount when it is none of them.
[[nodiscard]] size_t PhaseIndex(std::string_view phase);

// Whether a pod's state in phase directory `phase` depends on who holds its lock (prepare, run,
// exited-garbage, garbage); in embryo/ and prepared/ it does not.
[[nodiscard]] bool LockMatters(std::string_view phase);

// The state of a pod in `phase` whose lock is (not) held: rkt's table, as PodStore::List.
[[nodiscard]] PodState StateInPhase(std::string_view phase, bool locked);

class PodScanner {
 public:
  // Opens <pods_dir>/<phase> for each phase; NotFound when one is missing (nothing is created).
  [[nodiscard]] static Result<PodScanner> Open(const std::string& pods_dir);

  [[nodiscard]] const std::string& root() const { return root_; }
  // <root>/<kPhaseDirs[phase]>.
  [[nodiscard]] std::string PhasePath(size_t phase) const;

  // The pod uuids in phase directory `phase` (an index into kPhaseDirs), in readdir order.
  [[nodiscard]] Result<std::vector<std::string>> Names(size_t phase) const;
  // The entry of <phase>/<uuid>: its phase_since (a stat) and, where it matters, a lock probe.
  // ENOENT when it is not there.
  [[nodiscard]] Result<PodEntry> Entry(size_t phase, const std::string& uuid) const;
  // The pod wherever it is, looking from phase `from` on in lifecycle order (a pod only moves
  // forward). NotFound when it is in none.
  [[nodiscard]] Result<PodEntry> Locate(const std::string& uuid, size_t from = 0) const;
  // Whether someone holds the exclusive lock of the pod <phase>/<uuid> now: an open and a
  // non-blocking shared flock (dropped at once). ENOENT when it is not there (anymore).
  [[nodiscard]] Result<bool> Locked(size_t phase, const std::string& uuid) const;

 private:
  PodScanner() = default;
  std::string root_;
  std::array<os::UniqueFd, kPhaseCount> phases_;
};

}  // namespace comet::pod

#endif  // COMET_POD_POD_STORE_SCAN_H_
