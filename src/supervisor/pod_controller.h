// What the control socket may ask of a running pod: the operations the supervisor's core
// (supervisor.h) implements for the control server (control_server.h). Single-threaded: every
// call comes from the event loop.
#ifndef COMET_SUPERVISOR_POD_CONTROLLER_H_
#define COMET_SUPERVISOR_POD_CONTROLLER_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "base/result.h"
#include "pod/control.h"
#include "pod/manifest.h"

namespace comet::supervisor {

// Where an exec'd process's stdio comes from: three fds (dup'ed by the callee as needed; the
// caller closes its copies after the call), or a console socket path for a tty (the runtime
// sends the pty master there).
struct ExecStdio {
  int in = -1;
  int out = -1;
  int err = -1;
  std::string console_socket;  // non-empty: tty
};

class PodController {
 public:
  virtual ~PodController() = default;

  // Mutable pods (`app add`): validates the app against the manifest (unique name, volumes),
  // records it in the manifest and prepares it without starting it.
  [[nodiscard]] virtual Status AddApp(pod::App app) = 0;
  // Starts a created or exited app (idempotent when running).
  [[nodiscard]] virtual Status StartApp(const std::string& name) = 0;
  // SIGTERM, SIGKILL after `grace` (negative: the pod's default); `done` runs once it exited.
  // The app will not be restarted.
  [[nodiscard]] virtual Status StopApp(const std::string& name, std::chrono::milliseconds grace,
                                       std::function<void()> done) = 0;
  // Removes an app that is not running: its container, snapshot and manifest entry (its log
  // and status stay until the pod is removed).
  [[nodiscard]] virtual Status RemoveApp(const std::string& name) = 0;
  // Orderly pod stop (apps in reverse order within `grace`, then SIGKILL); the supervisor exits
  // afterwards.
  virtual void StopPod(std::chrono::milliseconds grace) = 0;
  // Runs a process in a running app with the app's isolation (namespaces, cgroup, caps,
  // seccomp, user unless overridden). `on_exit` gets its exit code when it is reaped.
  [[nodiscard]] virtual Result<pid_t> Exec(const std::string& app, const pod::ExecRequest& request,
                                           const ExecStdio& stdio,
                                           std::function<void(int exit_code)> on_exit) = 0;
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_POD_CONTROLLER_H_
