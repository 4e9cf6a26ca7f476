// The pods directory in rkt's model (DESIGN.md §3, docs/pod-lifecycle.md): a pod's phase is the
// directory it sits in, pods/{embryo,prepare,prepared,run,exited-garbage,garbage}/<uuid>, plus
// whether someone holds an exclusive flock(2) on the pod directory. Transitions are rename(2)s;
// the loser of a race sees ENOENT. Safe across processes; a PodStore handle is immutable and
// thread-safe, a Pod object (which may own the lock) is not.
#ifndef COMET_POD_POD_STORE_H_
#define COMET_POD_POD_STORE_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::pod {

// rkt's v1alpha.PodState numbering, so the api-service can use the values as they are.
enum class PodState {
  kUndefined = 0,
  kEmbryo = 1,
  kPreparing = 2,
  kPrepared = 3,
  kRunning = 4,
  kAbortedPrepare = 5,
  kExited = 6,
  kDeleting = 7,
  kGarbage = 8,
};

// "embryo", "preparing", "prepared", "running", "aborted prepare", "exited", "deleting",
// "garbage" (rkt list's words; an exited pod marked for gc shows "exited garbage").
[[nodiscard]] std::string_view PodStateName(PodState state);

// The six phase directories, in lifecycle order.
inline constexpr const char* kPhaseDirs[] = {"embryo", "prepare",        "prepared",
                                             "run",    "exited-garbage", "garbage"};

// What a listing sees of one pod (no lock taken; a snapshot that may be stale a moment later).
struct PodEntry {
  std::string uuid;
  std::string phase_dir;  // one of kPhaseDirs
  std::string path;       // <pods>/<phase_dir>/<uuid>
  PodState state = PodState::kUndefined;
  bool gc_marked = false;  // in exited-garbage/ or garbage/
  // When it entered its phase directory (the directory's ctime, which rename(2) updates): the
  // start of the gc grace period for marked pods.
  std::chrono::system_clock::time_point phase_since;
};

class PodStore;

// One pod directory, possibly with its exclusive lock held (an fd on the directory itself, so
// that renames do not lose it). Move-only.
class Pod {
 public:
  Pod(const Pod&) = delete;
  Pod& operator=(const Pod&) = delete;
  Pod(Pod&&) noexcept = default;
  Pod& operator=(Pod&&) noexcept = default;
  ~Pod() = default;

  [[nodiscard]] const std::string& uuid() const { return uuid_; }
  [[nodiscard]] const std::string& path() const { return path_; }  // follows the renames
  [[nodiscard]] const std::string& phase_dir() const { return phase_dir_; }
  [[nodiscard]] bool locked() const { return lock_.valid(); }

  // prepare/ -> prepared/, then releases the lock (`comet prepare` is done).
  [[nodiscard]] Status FinishPrepare();
  // prepare/ -> run/, keeping the lock (`comet run`).
  [[nodiscard]] Status StartRunning();
  // prepare/ -> garbage/ (a failed prepare), keeping the lock until destroyed.
  [[nodiscard]] Status AbortPrepare();
  // The lock fd without close-on-exec, for the supervisor to inherit across exec (rkt's
  // RKT_LOCK_FD). Ownership passes to the caller; the Pod no longer holds the lock.
  [[nodiscard]] Result<int> ReleaseLockForExec();

 private:
  friend class PodStore;
  Pod(std::string pods_dir, std::string uuid, std::string phase_dir, os::UniqueFd lock);
  // Renames the locked pod from one phase directory to another.
  [[nodiscard]] Status MoveLocked(const char* from, const char* to);
  std::string pods_dir_;
  std::string uuid_;
  std::string phase_dir_;
  std::string path_;
  os::UniqueFd lock_;
};

class PodStore {
 public:
  // <data dir>/pods; creates it and the six phase directories (0750) when missing.
  [[nodiscard]] static Result<PodStore> Open(const std::string& pods_dir);

  [[nodiscard]] const std::string& root() const { return root_; }

  // embryo/<uuid> created (0750), or a spare pod directory renamed there (spare_pod_dir.h), and
  // locked exclusively, then renamed to prepare/. `uuid` empty: a fresh one. The returned Pod
  // holds the lock.
  [[nodiscard]] Result<Pod> CreatePreparing(const std::string& uuid = "") const;
  // Locks prepared/<uuid> (EWOULDBLOCK: another run-prepared has it) and renames it to run/
  // (`comet run-prepared`). NotFound when it is not prepared (anymore).
  [[nodiscard]] Result<Pod> StartPrepared(const std::string& uuid) const;

  // Every pod in every phase directory, with its state derived from the directory and the lock
  // (a shared non-blocking flock: success in run/ means exited). Sorted by uuid.
  [[nodiscard]] Result<std::vector<PodEntry>> List() const;
  // By full uuid or a unique prefix (>= 4 characters); NotFound / ambiguous errors name it.
  [[nodiscard]] Result<PodEntry> Find(std::string_view uuid_or_prefix) const;
  // The entry of one pod again (it may have moved since it was listed).
  [[nodiscard]] Result<PodEntry> Refresh(const std::string& uuid) const;

  // Blocks until the pod's supervisor releases its lock (the pod exited) or `timeout` passes
  // (nullopt: forever). Returns true when it exited.
  [[nodiscard]] Result<bool> WaitExited(const std::string& uuid,
                                        std::optional<std::chrono::milliseconds> timeout) const;

  // run/<uuid> -> exited-garbage/<uuid> when its lock is free (gc mark, `gc --mark-only`,
  // ExecStopPost). ENOENT (someone else moved it) is success; a running pod is EBUSY.
  [[nodiscard]] Status MarkExited(const std::string& uuid) const;
  // prepare/<uuid> with no lock holder (a crashed prepare) or prepared/<uuid> -> garbage/.
  // Also embryo/<uuid> with no lock holder (a crash before prepare/): give embryos a grace
  // period (phase_since) first, since a creator holds no lock for the instant after mkdir.
  // A pod locked by its preparer or by run-prepared is EBUSY; ENOENT (moved meanwhile, or in no
  // such phase) is success.
  [[nodiscard]] Status MarkGarbage(const std::string& uuid) const;

  // Takes the exclusive lock of a pod in exited-garbage/ or garbage/ without blocking (EBUSY
  // when someone holds it), for the sweep: the caller tears it down, then calls Remove.
  [[nodiscard]] Result<Pod> LockForRemoval(const std::string& uuid) const;
  // Removes the directory of a pod locked by LockForRemoval (os::RemoveAll), or of any pod whose
  // lock the caller holds (an aborted prepare), and its volatile directory (RemoveVolatileDir).
  // EBUSY while anything is mounted at or below it (rm -rf would go through the mount):
  // TeardownPod first.
  [[nodiscard]] Status Remove(Pod pod) const;

 private:
  explicit PodStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace comet::pod

#endif  // COMET_POD_POD_STORE_H_
