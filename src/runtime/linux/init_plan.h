// InitPlan: everything the container's setup processes do between fork and exec, computed in
// the runtime's parent process beforehand so that the child side only reads it (no allocation,
// no parsing, no lookups after fork). Plain data, built once per create/exec; not thread-safe.
#ifndef COMET_RUNTIME_LINUX_INIT_PLAN_H_
#define COMET_RUNTIME_LINUX_INIT_PLAN_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "seccomp/filter.h"

namespace comet::runtime {

struct RootfsPlan;

// A NULL-terminated char* array backed by owned strings, for execve.
class CStringArray {
 public:
  CStringArray() { pointers_.push_back(nullptr); }
  explicit CStringArray(std::vector<std::string> values);
  CStringArray(const CStringArray& other) : CStringArray(other.values_) {}
  CStringArray& operator=(const CStringArray& other);
  CStringArray(CStringArray&&) = default;
  CStringArray& operator=(CStringArray&&) = default;
  ~CStringArray() = default;

  [[nodiscard]] char* const* get() const { return pointers_.data(); }
  [[nodiscard]] const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
  std::vector<char*> pointers_;
};

struct CapabilityPlan {
  bool apply = false;  // false: keep the capabilities the process has
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  int last_cap = 40;  // /proc/sys/kernel/cap_last_cap
};

struct RlimitPlan {
  int resource = 0;
  struct rlimit value {};
  std::string name;  // for error reports
};

struct HookPlan {
  std::string path;
  CStringArray argv;
  CStringArray envp;
  int timeout_seconds = 0;  // 0 = none
};

// How init turns itself into the user's process.
struct ProcessPlan {
  CStringArray argv;
  CStringArray envp;
  // Absolute paths to try for argv[0], in $PATH order (the container's PATH).
  std::vector<std::string> exec_candidates;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  bool set_groups = true;  // false when setgroups is denied (rootless single mapping)
  std::optional<mode_t> umask;
  CapabilityPlan capabilities;
  std::vector<RlimitPlan> rlimits;
  bool no_new_privileges = false;
  std::string oom_score_adj;  // empty: leave as inherited
  std::optional<unsigned long> personality;
  std::optional<seccomp::CompiledFilter> seccomp;
  bool terminal = false;
  unsigned short console_rows = 0;
  unsigned short console_cols = 0;
  int preserve_fds = 0;  // fds 3..3+n-1 stay open across exec
  // Fds (open in the runtime's process, inherited over fork) that become fds 0, 1, 2 before
  // exec; -1 keeps the inherited one. Unused with a terminal (the pty is all three).
  int stdio[3] = {-1, -1, -1};
  std::string session_keyring;  // empty: keep the inherited keyring
  bool create_cwd = false;      // mkdir -p cwd inside the rootfs before exec
};

struct NamespaceJoin {
  int fd = -1;     // an open /proc/.../ns/* or bind-mounted ns file (owned by the plan's owner)
  int nstype = 0;  // CLONE_NEW*
};

struct SysctlPlan {
  std::string path;  // /proc/sys/net/ipv4/ip_forward
  std::string value;
};

// A group's file the intermediate writes "0" to, moving itself (and so init) into the group.
struct CgroupJoinPlan {
  int fd = -1;
  std::string path;  // for the error message
};

struct InitPlan {
  int sync_fd = -1;  // child's end of the socketpair
  // Joined first, before any namespace; when empty the runtime adds the intermediate itself.
  std::vector<CgroupJoinPlan> cgroup_joins;
  std::vector<NamespaceJoin> joins;  // user ns first
  bool new_user_ns = false;
  int unshare_flags = 0;  // CLONE_NEW* besides CLONE_NEWUSER
  // The parent acts once the namespaces are joined (writes id maps, adds the process to the
  // cgroups): the setup process waits for it before unsharing the rest. False when there is
  // nothing to wait for, which saves a round trip.
  bool namespaces_sync = true;
  // The parent runs hooks once the mounts are done (prestart, createRuntime) or hands init the
  // state its own hooks read (createContainer, startContainer). False when there are none.
  bool runtime_hooks_sync = true;
  std::string timens_offsets;  // written to /proc/self/timens_offsets after CLONE_NEWTIME
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::shared_ptr<const RootfsPlan> rootfs;  // null: no rootfs setup (exec, joined mount ns)
  std::vector<SysctlPlan> sysctls;
  std::vector<HookPlan> create_container_hooks;
  std::vector<HookPlan> start_container_hooks;
  int exec_fifo_fd = -1;  // O_PATH fd of the exec fifo; -1 for exec (start right away)
  ProcessPlan process;
};

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_INIT_PLAN_H_
