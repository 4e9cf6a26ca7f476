// The supervisor's end of the control socket (<pod>/ctl, pod/control.h): accepts connections,
// reads each one's request without blocking, and dispatches it to the PodController (stop,
// app add/start/stop/rm, exec: a non-tty exec's stdio is relayed through pipes as frames) or
// to AppIo (attach). Clients are hostile input: a malformed request gets an ok=false reply and
// the connection is closed; nothing a client does can stop or block the supervisor. Peers
// other than the supervisor's own uid and root are refused (SO_PEERCRED), whatever the mode.
// Single-threaded (event loop callbacks).
#ifndef COMET_SUPERVISOR_CONTROL_SERVER_H_
#define COMET_SUPERVISOR_CONTROL_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/control.h"
#include "supervisor/app_io.h"
#include "supervisor/event_loop.h"
#include "supervisor/pod_controller.h"

namespace comet::supervisor {

class StreamConnection;
struct ExecPipes;

class ControlServer {
 public:
  ControlServer(EventLoop& loop, PodController& controller, AppIo& io, std::string pod_dir);
  ~ControlServer();  // Close()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ControlServer(ControlServer&&) = delete;
  ControlServer& operator=(ControlServer&&) = delete;

  // Binds <pod_dir>/ctl (mode 0600, and only the supervisor's uid or root may connect; a stale
  // socket from an earlier supervisor is replaced; long paths work) and starts accepting.
  [[nodiscard]] Status Listen();
  // Stops accepting, drops every connection still waiting for a reply or an exec's exit, and
  // removes the socket file.
  void Close();

 private:
  // One connection: a request awaiting its reply, or an exec's streams until its exit.
  struct Pending {
    std::unique_ptr<StreamConnection> connection;
    std::unique_ptr<ExecPipes> pipes;  // a non-tty exec
    bool got_request = false;
    bool replied = false;
    std::optional<int> exit_code;  // an exec that exited before its reply went out
    EventLoop::TimerId timeout = 0;
  };
  void OnAccept();
  void PauseAccepting(int error);
  [[nodiscard]] Status Watch(uint64_t id, bool read_frames);
  void OnRequest(uint64_t id, pod::Frame frame);
  void Dispatch(uint64_t id, const pod::ControlRequest& request, pod::Frame& frame);
  void Exec(uint64_t id, const pod::ControlRequest& request, pod::Frame& frame);
  void Attach(uint64_t id, const pod::ControlRequest& request);
  // A non-tty exec's streams (the process's pipes, relayed as frames).
  void WatchExecOutput(uint64_t id, bool watch);
  // Relays one chunk of output; false when nothing more can be read now.
  bool OnExecOutput(uint64_t id, bool is_stderr);
  void ResumeExecOutput(uint64_t id);
  void OnExecInput(uint64_t id, const pod::Frame& frame);
  void FlushExecStdin(uint64_t id);
  void FinishExec(uint64_t id, int exit_code);
  void Reply(uint64_t id, const Status& status, pid_t pid = 0, std::vector<os::UniqueFd> fds = {},
             bool close = true);
  void Drop(uint64_t id);
  StreamConnection* Connection(uint64_t id);

  EventLoop& loop_;
  PodController& controller_;
  AppIo& io_;
  std::string pod_dir_;
  os::UniqueFd dir_;
  os::UniqueFd listener_;
  std::map<uint64_t, std::unique_ptr<Pending>> connections_;
  uint64_t next_id_ = 1;
  uint64_t next_exec_ = 1;
  EventLoop::TimerId accept_pause_ = 0;  // accept failed for want of fds: retried later
  // Callbacks that outlive the server (an exec's on_exit, a stop's done) check this.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_CONTROL_SERVER_H_
