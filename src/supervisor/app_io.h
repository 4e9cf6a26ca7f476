// The apps' standard streams inside the supervisor: pipes (or a pty) per app run, copied into
// the app's CRI log (pod/cri_log.h), echoed to the supervisor's terminal in a foreground
// `comet run`, and fanned out to `comet attach` clients; stdin from the terminal or from an
// attached client. Single-threaded (event loop callbacks).
#ifndef COMET_SUPERVISOR_APP_IO_H_
#define COMET_SUPERVISOR_APP_IO_H_

#include <sys/types.h>
#include <termios.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "os/unique_fd.h"
#include "pod/control.h"
#include "pod/cri_log.h"
#include "pod/manifest.h"
#include "supervisor/event_loop.h"

namespace comet::supervisor {

// The container's side of one run's stdio, for runtime::CreateOptions: fds 0-2 to dup onto the
// app's stdin/stdout/stderr, or a console socket path when the app has a tty.
struct LaunchStdio {
  int in = -1;
  int out = -1;
  int err = -1;
  std::string console_socket;
};

struct ForegroundOptions {
  // `comet run` without --detach: app output is echoed to these fds (the supervisor's original
  // stdout/stderr, moved away from 0-2), and the terminal's input goes to the one app with
  // stdin (-i), raw when it has a tty (-t). -1: none (detached).
  int terminal_in = -1;
  int terminal_out = -1;
  int terminal_err = -1;
};

class StreamConnection;

class AppIo {
 public:
  AppIo(EventLoop& loop, std::string pod_dir, ForegroundOptions foreground);
  ~AppIo();
  AppIo(const AppIo&) = delete;
  AppIo& operator=(const AppIo&) = delete;
  AppIo(AppIo&&) = delete;
  AppIo& operator=(AppIo&&) = delete;

  // Before each launch of `app`: fresh pipes (the app's stdin pipe, when app.stdin, lives as
  // long as the app and is reused across restarts) or a console socket. The returned fds stay
  // valid until Launched/LaunchFailed.
  [[nodiscard]] Result<LaunchStdio> Prepare(const pod::App& app);
  // The container was created: the container-side fds are closed here; for a tty the pty master
  // is taken from the console socket. Output starts flowing into the log.
  [[nodiscard]] Status Launched(const std::string& app);
  void LaunchFailed(const std::string& app);
  // The app's process exited with `exit_code`: what is left in its pipes is drained into the
  // log, attached clients get a kExit frame.
  void Exited(const std::string& app, int exit_code);
  // The app is gone for good (app rm, pod end): close everything of it.
  void Removed(const std::string& app);

  // `comet attach`, in two steps so that the ControlServer can reply first: CanAttach says
  // whether the app has a pty (the reply's tty flag); NotFound for an unknown app, an error
  // when it is not running. Attach then takes the connection (its ok reply already queued) and
  // streams to it until the app exits (kExit) or the client goes away.
  [[nodiscard]] Result<bool> CanAttach(const std::string& app) const;
  void Attach(const std::string& app, std::unique_ptr<StreamConnection> connection,
              bool attach_stdin);
  // How many attach clients `app` has (the ControlServer bounds them); empty name: all apps.
  [[nodiscard]] size_t AttachedClients(const std::string& app) const;

  // The foreground terminal changed size (SIGWINCH): the pty of the app it drives follows.
  void TerminalResized();

  // Flushes and closes everything (pod end).
  void Shutdown();

 private:
  struct AppStreams;
  struct Client;
  AppStreams* Find(const std::string& app) const;
  Result<AppStreams*> Streams(const pod::App& app);
  void WatchOutput(AppStreams& streams, int fd, pod::LogStream stream);
  // Reads one chunk: its size, 0 when nothing is there now, -1 at end of stream or error (the
  // fd is then closed).
  ssize_t ReadOutput(AppStreams& streams, int fd, pod::LogStream stream);
  Status OpenLog(AppStreams& streams) const;
  void Output(AppStreams& streams, pod::LogStream stream, std::string_view data);
  void CloseOutput(AppStreams& streams);
  void DrainOutput(AppStreams& streams);
  static int StdinTarget(const AppStreams& streams);
  void QueueStdin(AppStreams& streams, std::string_view data);
  void FlushStdin(AppStreams& streams);
  void CloseStdin(AppStreams& streams);
  void UpdateStdinWatch(AppStreams& streams);
  void WatchTerminal();
  void OnTerminalInput();
  void OnClientFrame(AppStreams& streams, Client& client, const pod::Frame& frame);
  void DropClient(const std::string& app, uint64_t id);
  void RestoreTerminal();

  EventLoop& loop_;
  std::string pod_dir_;
  ForegroundOptions foreground_;
  std::map<std::string, std::unique_ptr<AppStreams>> apps_;
  std::string terminal_app_;  // the app the terminal's input goes to ("": none yet)
  bool terminal_watched_ = false;
  bool terminal_eof_ = false;
  bool terminal_reading_file_ = false;      // in WatchTerminal's loop over an unpollable stdin
  EventLoop::TimerId terminal_resume_ = 0;  // the next pass over an unpollable stdin
  bool terminal_raw_ = false;
  termios saved_termios_{};
  uint64_t next_client_ = 1;
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_APP_IO_H_
