// Internal helpers of the cgroup layer: reading and writing cgroupfs files, walking group trees,
// resolving a container's cgroupsPath. Thread-safe (no shared state).
#ifndef COMET_CGROUP_FS_H_
#define COMET_CGROUP_FS_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::cgroup {

// Writes `value` to dir/file with one write(2) (cgroupfs parses each write as a whole) without
// creating it. Errors read `setting <file> to "<value>": <strerror>` with the kernel's errno.
[[nodiscard]] Status WriteValue(const std::string& dir, std::string_view file,
                                std::string_view value);
// Reads dir/file, trailing whitespace removed.
[[nodiscard]] Result<std::string> ReadValue(const std::string& dir, std::string_view file);
[[nodiscard]] bool HasFile(const std::string& dir, std::string_view file);

// The pids in dir/cgroup.procs of `dir` and all groups below it; a missing group gives none.
[[nodiscard]] Result<std::vector<pid_t>> ReadPidsRecursive(const std::string& dir);
// Removes `dir` and the groups below it, deepest first, retrying EBUSY for a short while (tasks
// that were just killed leave the group asynchronously). A missing group is fine.
[[nodiscard]] Status RemoveGroupTree(const std::string& dir);
// Sends `signal` to each pid, ignoring the ones that already exited.
[[nodiscard]] Status SignalAll(const std::vector<pid_t>& pids, int signal);

// Checks a hugepageLimits pageSize ("2MB", "1GB") before it becomes part of a file name.
[[nodiscard]] Status CheckPageSize(const std::string& page_size);

// A cgroupsPath resolved to "/a/b" form relative to a hierarchy root: `path` is the part
// shared by all hierarchies, `relative` says whether it hangs below the caller's own group.
struct GroupPath {
  std::string path;
  bool relative = false;
};
// Validates and normalises cgroupsPath (see Manager::Create for the rules).
[[nodiscard]] Result<GroupPath> ResolveGroupPath(const std::string& cgroups_path,
                                                 const std::string& id);
// The absolute directory of `group` in a hierarchy mounted at `root`, where the caller's own
// group is `self` ("/" when unknown).
std::string GroupDir(const std::string& root, const std::string& self, const GroupPath& group);

// Creates `dir` and missing ancestors down from `root`, appending each directory it created
// to `created` (outermost first). `dir` must be `root` or below it.
[[nodiscard]] Status MakeGroupDirs(const std::string& root, const std::string& dir,
                                   std::vector<std::string>* created);
// Removes directories listed by MakeGroupDirs, innermost first, ignoring errors.
void RemoveCreated(const std::vector<std::string>& created);

}  // namespace comet::cgroup

#endif  // COMET_CGROUP_FS_H_
