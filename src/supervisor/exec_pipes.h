// ExecPipes: the supervisor's ends of a non-tty exec's stdio pipes, which the control server
// relays to and from the client as frames (control_server_exec.cc). Single-threaded (event loop).
#ifndef COMET_SUPERVISOR_EXEC_PIPES_H_
#define COMET_SUPERVISOR_EXEC_PIPES_H_

#include <array>
#include <set>
#include <string>

#include "base/result.h"
#include "os/unique_fd.h"
#include "supervisor/event_loop.h"

namespace comet::supervisor {

// The supervisor's ends of a non-tty exec's pipes (non-blocking; the process has the others:
// never a client's own fds, which a process could reopen through /proc/<pid>/fd).
struct ExecPipes {
  explicit ExecPipes(EventLoop& event_loop) : loop(event_loop) {}
  ~ExecPipes() {
    for (int fd : watched) {
      loop.Remove(fd);
    }
    if (resume != 0) {
      loop.CancelTimer(resume);
    }
  }
  ExecPipes(const ExecPipes&) = delete;
  ExecPipes& operator=(const ExecPipes&) = delete;
  ExecPipes(ExecPipes&&) = delete;
  ExecPipes& operator=(ExecPipes&&) = delete;

  void Unwatch(int fd) {
    if (watched.erase(fd) > 0) {
      loop.Remove(fd);
    }
  }
  void Close(os::UniqueFd& fd) {
    Unwatch(fd.get());
    fd.Reset();
  }

  EventLoop& loop;
  os::UniqueFd out;  // read end of the process's stdout
  os::UniqueFd err;  // read end of its stderr
  os::UniqueFd in;   // write end of its stdin (interactive only)
  std::string stdin_queue;
  bool stdin_eof = false;  // kStdinClose came: `in` is closed once the queue is written
  bool input_paused = false;
  std::set<int> watched;
  EventLoop::TimerId resume = 0;  // output paused: the check for a drained client queue
};

// Makes the pipes of a non-tty exec: the process's ends (stdin, stdout, stderr) in *child;
// stdin is /dev/null unless interactive.
[[nodiscard]] Status MakeExecPipes(bool interactive, ExecPipes* pipes,
                                   std::array<os::UniqueFd, 3>* child);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_EXEC_PIPES_H_
