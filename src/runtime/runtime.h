// The OCI runtime verbs (runc's command set) over containers kept in a state root.
// Each call is one short-lived operation; state lives on disk under `root`, so calls from
// different processes cooperate through the container's lock file. Not thread-safe.
#ifndef COMET_RUNTIME_RUNTIME_H_
#define COMET_RUNTIME_RUNTIME_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::runtime {

struct GlobalOptions {
  std::string root;              // state root; empty = default (/run/comet-runtime or rootless dir)
  bool systemd_cgroup = false;   // accepted; the systemd driver is not implemented (see docs)
  std::optional<bool> rootless;  // nullopt = auto (euid != 0)
  bool debug = false;
  // A per-boot directory of this user caching compiled seccomp programs (seccomp/filter_cache.h);
  // empty: every profile is compiled afresh (comet-runtime's CLI).
  std::string seccomp_cache_dir;
};

// Fds the container's process gets as its fds 0, 1 and 2 (stdin, stdout, stderr), for a caller
// that runs many containers and owns their stdio (the pod supervisor: pipes per app). -1 keeps
// the default: the process inherits the caller's fds 0-2. The container's process dup2s them
// onto 0-2 during its setup, before Create/Exec returns (so they may be close-on-exec in the
// caller, may already be 0-2, and one fd may serve several slots); the caller keeps ownership
// and may close its copies as soon as Create/Exec returns. An fd that is not open is an error.
// Ignored when the process has a terminal: the pty is all three then.
struct StdioFds {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  bool no_pivot = false;
  bool no_new_keyring = false;
  StdioFds stdio;  // the container's init: see StdioFds
  // The bundle's config when the caller holds it already (the pod supervisor builds it): used
  // instead of reading <bundle>/config.json, and validated exactly as a read one. The bundle
  // directory still anchors a relative root.path and is recorded as the bundle. Not owned: it
  // must outlive the call.
  const oci::Spec* spec = nullptr;
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;  // keep the container's state after it exits (runc run --keep)
};

struct ExecOptions {
  std::string id;
  std::string process_path;       // --process: a JSON file holding an oci Process
  std::vector<std::string> args;  // used when process_path is empty
  bool tty = false;
  std::vector<std::string> env;  // KEY=VALUE, added to the container's env
  std::string cwd;
  std::string user;  // "uid[:gid]"
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;  // added capabilities
  bool no_new_privs = false;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
  StdioFds stdio;  // the exec'd process: see StdioFds
};

struct KillOptions {
  std::string id;
  int signal = 15;
  bool all = false;  // every process in the container's cgroup
};

struct ContainerInfo {
  std::string id;
  pid_t pid = 0;
  std::string status;
  std::string bundle;
  std::string created;  // RFC 3339
  std::string owner;
  std::map<std::string, std::string> annotations;
};

// Returns init's pid in the caller's pid namespace (GetState(global, id)->pid, without reading
// the state back: init waits for Start meanwhile). Init is a child of the caller (the caller is
// made a child subreaper), so the caller may waitpid() it after Start; runtime::Delete
// afterwards removes the state.
[[nodiscard]] Result<pid_t> Create(const GlobalOptions& global, const CreateOptions& options);
// `hooks`, in Start and Delete (which need nothing else of the spec): the hooks of the spec
// the container was created with, when the caller holds it (CreateOptions::spec; an empty
// Hooks when it has none), so the saved config.json need not be read back and parsed; null
// reads the saved copy, as an unrelated caller must.
[[nodiscard]] Status Start(const GlobalOptions& global, const std::string& id,
                           const oci::Hooks* hooks = nullptr);
// Creates and starts; unless detached, waits and returns the container process's exit code
// (128+signal when killed), then deletes the container unless `keep`.
[[nodiscard]] Result<int> Run(const GlobalOptions& global, const RunOptions& options);
[[nodiscard]] Result<oci::State> GetState(const GlobalOptions& global, const std::string& id);
// The `state` document in runc's shape (adds rootfs, created, owner), which podman and conmon read.
[[nodiscard]] Result<std::string> StateJson(const GlobalOptions& global, const std::string& id);
[[nodiscard]] Status Kill(const GlobalOptions& global, const KillOptions& options);
[[nodiscard]] Status Delete(const GlobalOptions& global, const std::string& id, bool force,
                            const oci::Hooks* hooks = nullptr);
// Unless detached, returns the exec'd process's exit code.
[[nodiscard]] Result<int> Exec(const GlobalOptions& global, const ExecOptions& options);
// Exec, always detached (options.detach is ignored): returns once the process has exec'd, with
// its pid in the caller's pid namespace. The process is a child of the caller (made a child
// subreaper), so the caller must waitpid() it. A terminal needs options.console_socket.
[[nodiscard]] Result<pid_t> ExecDetached(const GlobalOptions& global, const ExecOptions& options);
[[nodiscard]] Result<std::vector<ContainerInfo>> List(const GlobalOptions& global);
// The ids List would report (those whose state can be read), without looking up owners' names.
[[nodiscard]] Result<std::vector<std::string>> ContainerIds(const GlobalOptions& global);
[[nodiscard]] Result<std::vector<pid_t>> Pids(const GlobalOptions& global, const std::string& id);
[[nodiscard]] Status Pause(const GlobalOptions& global, const std::string& id);
[[nodiscard]] Status Resume(const GlobalOptions& global, const std::string& id);
[[nodiscard]] Status Update(const GlobalOptions& global, const std::string& id,
                            const oci::Resources& resources);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_RUNTIME_H_
