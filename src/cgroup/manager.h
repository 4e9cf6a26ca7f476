// cgroup::Manager: one container's control group(s), on cgroup v1 (one hierarchy per
// controller) or v2 (one unified tree). Created by the runtime in `create`, re-opened from the
// paths saved in the container's state by later commands. Not thread-safe.
#ifndef COMET_CGROUP_MANAGER_H_
#define COMET_CGROUP_MANAGER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "os/unique_fd.h"

namespace comet::cgroup {

enum class Version { kV1, kV2 };

// Where the cgroup filesystems are mounted. Tests point this at a fake tree in a temp dir.
struct Layout {
  Version version = Version::kV2;
  std::string unified_root;                     // v2 mount point (or hybrid's unified mount)
  std::map<std::string, std::string> v1_roots;  // v1 controller name -> its mount point
  // The caller's own groups (from /proc/self/cgroup): "" key for v2, controller keys for v1.
  std::map<std::string, std::string> self_paths;
};

// Reads /proc/self/mountinfo and /proc/self/cgroup. On a hybrid host (v1 controllers plus an
// empty unified mount) the result is v1.
[[nodiscard]] Result<Layout> DetectLayout();
// The same from the two files' contents (for tests and for reading another process's view).
[[nodiscard]] Result<Layout> ParseLayout(const std::string& mountinfo,
                                         const std::string& proc_cgroup);

// True when the caller may create the group(s) for `cgroups_path` (its nearest existing ancestor
// is writable in every hierarchy). A rootless runtime without a delegated subtree gets false and
// runs without cgroups. An invalid path also gives false; Create then reports why.
[[nodiscard]] bool CanWrite(const Layout& layout, const std::string& cgroups_path,
                            const std::string& id);

// A group's file, open for writing, that a process moves itself into the group through.
struct SelfJoinFile {
  os::UniqueFd fd;
  std::string path;  // for error messages
};

class Manager {
 public:
  virtual ~Manager() = default;

  // Resolves `cgroups_path` (absolute: from the hierarchy root; relative: below the caller's own
  // group; empty: "<id>" below the caller's own group, as runc does) and creates the group(s).
  // Paths with ".." and systemd "slice:prefix:name" paths are rejected. Nothing is left behind
  // on failure; groups that already existed are joined.
  [[nodiscard]] static Result<std::unique_ptr<Manager>> Create(const Layout& layout,
                                                               const std::string& cgroups_path,
                                                               const std::string& id);
  // Re-opens groups saved by Paths() (does not create them).
  [[nodiscard]] static Result<std::unique_ptr<Manager>> Open(
      const Layout& layout, const std::map<std::string, std::string>& paths);

  // Absolute directories of this container's groups ("" key for v2, controller names for v1).
  [[nodiscard]] virtual std::map<std::string, std::string> Paths() const = 0;
  // Writes the limits. Errors name the file and value: `setting memory.max to "abc": ...`.
  [[nodiscard]] virtual Status Apply(const oci::Resources& resources) = 0;
  [[nodiscard]] virtual Status AddProcess(pid_t pid) = 0;
  // v1: each hierarchy's `tasks` file. A single-threaded process that writes "0" to each moves
  // itself without taking the kernel's global threadgroup lock, whose first taking after a quiet
  // spell waits a whole RCU grace period (5-15 ms) -- the largest single cost of starting a
  // container. Empty for v2 (cgroup.procs always takes the lock: use AddProcess) and when a file
  // is missing (a fake tree).
  [[nodiscard]] virtual Result<std::vector<SelfJoinFile>> OpenSelfJoinFiles() const = 0;
  [[nodiscard]] virtual Status Freeze() = 0;
  [[nodiscard]] virtual Status Thaw() = 0;
  [[nodiscard]] virtual Result<bool> IsFrozen() const = 0;
  [[nodiscard]] virtual Result<std::vector<pid_t>> Pids() const = 0;  // recursive
  [[nodiscard]] virtual Status KillAll(int signal) = 0;
  // Kills what is left, then removes the groups (children first). Missing groups are fine.
  [[nodiscard]] virtual Status Destroy() = 0;
};

}  // namespace comet::cgroup

#endif  // COMET_CGROUP_MANAGER_H_
