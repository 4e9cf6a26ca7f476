// The runtime's state on disk: one directory per container under the state root, holding
// state.json (what `create` learnt: pid, cgroup paths, bundle...), a copy of config.json and,
// between create and start, the exec fifo. The directory is created with mkdir(2), so two
// creates of one id race safely; state.json is replaced atomically. Not thread-safe.
#ifndef COMET_RUNTIME_CONTAINER_STORE_H_
#define COMET_RUNTIME_CONTAINER_STORE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/file_lock.h"

namespace comet::runtime {

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat, to detect pid reuse
  std::string created;          // RFC 3339 nano
  uint32_t owner_uid = 0;
  bool rootless = false;
  bool started = false;  // `start` went through
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> cgroup_paths;  // empty when cgroups were skipped
};

class ContainerStore {
 public:
  explicit ContainerStore(std::string root) : root_(std::move(root)) {}

  // The default root: /run/comet-runtime, or $XDG_RUNTIME_DIR/comet-runtime when rootless.
  static std::string DefaultRoot(bool rootless);
  // Ids are what runc accepts: [A-Za-z0-9_+.-], not "." or "..", at most 1024 bytes.
  [[nodiscard]] static Status ValidateId(const std::string& id);

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] std::string Dir(const std::string& id) const;
  [[nodiscard]] std::string FifoPath(const std::string& id) const;
  [[nodiscard]] std::string ConfigPath(const std::string& id) const;

  // Creates the container's directory; fails with EEXIST naming the id when it exists.
  [[nodiscard]] Status CreateDir(const std::string& id) const;
  [[nodiscard]] Status Save(const ContainerRecord& record) const;
  // Fails with ENOENT "container <id> does not exist".
  [[nodiscard]] Result<ContainerRecord> Load(const std::string& id) const;
  [[nodiscard]] Status Remove(const std::string& id) const;
  [[nodiscard]] Result<std::vector<std::string>> ListIds() const;
  // Serializes verbs that change a container's status (start, delete): an exclusive flock on
  // its directory. Fails with ENOENT when the container does not exist.
  [[nodiscard]] Result<os::FileLock> Lock(const std::string& id) const;

 private:
  // The root must be a directory owned by us (or root) that nobody else may write to: others
  // could otherwise plant state whose hooks we would run.
  [[nodiscard]] Status CheckRoot() const;

  std::string root_;
};

// A per-boot directory `name` of the user `uid` (the caller's uid on the host): /run/<name> as
// root; rootless, $XDG_RUNTIME_DIR/<name>, or /tmp/<name>-<uid> when that is unset. All are
// tmpfs on a usual host: what is kept there means nothing after a reboot.
std::string PerBootDir(bool rootless, std::string_view name, uid_t uid);

// Start time of a process (clock ticks since boot), or 0 when it is gone.
uint64_t ProcessStartTime(pid_t pid);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_CONTAINER_STORE_H_
