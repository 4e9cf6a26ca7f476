// SystemdInstance: Debian's systemd booted for a test as PID 1 of new pid, mount, uts, ipc and
// cgroup namespaces, on an overlay of the host's root (recipe B of
// shared/reference/systemd-in-tests.md), with only dbus and journald started. Tests talk to it
// over its system bus (BusAddress) and run its tools inside it (RunInside). Not thread-safe; use
// from a single-threaded test binary (it forks).
#ifndef COMET_TESTING_SYSTEMD_INSTANCE_H_
#define COMET_TESTING_SYSTEMD_INSTANCE_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "os/subprocess.h"
#include "os/temp_dir.h"

namespace comet::testing {

class SystemdInstance {
 public:
  SystemdInstance() = default;
  SystemdInstance(const SystemdInstance&) = delete;
  SystemdInstance& operator=(const SystemdInstance&) = delete;
  SystemdInstance(SystemdInstance&&) = delete;
  SystemdInstance& operator=(SystemdInstance&&) = delete;
  // Stops the instance (Stop()) if it still runs.
  ~SystemdInstance();

  // Before Boot(): the host directory `path` (absolute, existing) is bind-mounted at the same
  // path inside the instance, so that both sides see one directory (not recursively: mounts
  // below it on the host are not carried in). Without it the
  // instance sees the host's files through its overlay (those under /run and /tmp not at all:
  // they are its own tmpfs), and what it writes stays in the overlay's upper layer, invisible to
  // the host. Shared directories are mounted in the order given.
  void ShareDirectory(std::string path) { shared_.push_back(std::move(path)); }

  // Boots systemd to basic.target and returns once its manager answers on the system bus with
  // SystemState "running" or "degraded". Needs root. On failure nothing is left behind and the
  // error quotes the boot script's and systemd's output. The instance gets SIGKILL if the
  // thread that booted it exits without stopping it (PR_SET_PDEATHSIG), so a crashed test
  // leaves no systemd running (only its cgroups, removed by the next Boot()).
  [[nodiscard]] Status Boot(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Powers the instance off (SIGRTMIN+4), waits up to `timeout` for PID 1 to exit (then
  // SIGKILL), and removes the cgroups and the state directory it made. Every mount of the
  // instance lived in its own mount namespace and is gone with its last process. Idempotent.
  [[nodiscard]] Status Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  [[nodiscard]] bool running() const { return pid1_ > 0; }
  // systemd's pid as seen from the host.
  [[nodiscard]] pid_t pid1() const { return pid1_; }
  // The instance's root as seen from the host: /proc/<pid1>/root.
  [[nodiscard]] std::string root() const;
  // "unix:path=/proc/<pid1>/root/run/dbus/system_bus_socket".
  [[nodiscard]] std::string BusAddress() const;
  // The host-side path of the instance's /run/systemd/system, where unit files are written.
  [[nodiscard]] std::string UnitDir() const;
  // How long Boot() took until systemd answered.
  [[nodiscard]] std::chrono::milliseconds boot_time() const { return boot_time_; }
  // The inode of the instance's pid namespace (to check no process of it is left).
  [[nodiscard]] ino_t pid_namespace() const { return pid_namespace_; }
  // The host paths of the cgroups made for the instance (one per hierarchy).
  [[nodiscard]] const std::vector<std::string>& cgroups() const { return cgroups_; }

  // Runs `argv` inside all of the instance's namespaces (nsenter -t <pid1> -a), e.g.
  // {"systemctl", "stop", "x.service"}, and returns its exit code and output. A non-zero exit is
  // not an Error.
  [[nodiscard]] Result<os::SubprocessResult> RunInside(
      const std::vector<std::string>& argv,
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // What the boot script and systemd printed (for failure messages).
  [[nodiscard]] std::string BootLog() const;

 private:
  [[nodiscard]] Status MakeCgroups();
  [[nodiscard]] Status Launch();
  [[nodiscard]] Status WaitUntilUp(std::chrono::steady_clock::time_point deadline);
  // Reaps PID 1 if it has exited; returns a description of how it ended, or nullopt if it runs.
  std::optional<std::string> ReapIfExited();
  [[nodiscard]] Status RemoveCgroups();

  std::vector<std::string> shared_;   // ShareDirectory
  std::optional<os::TempDir> state_;  // console.log, boot.log and t/ (the tmpfs's mount point)
  std::vector<std::string> cgroups_;
  pid_t pid1_ = -1;
  ino_t pid_namespace_ = 0;
  std::chrono::milliseconds boot_time_{0};
};

}  // namespace comet::testing

#endif  // COMET_TESTING_SYSTEMD_INSTANCE_H_
