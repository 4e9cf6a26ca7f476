// ControlServer's exec requests (see control_server.h): starting the process through the
// PodController, then relaying a non-tty exec's stdio as frames, with back-pressure both ways,
// until its kExit frame. Single-threaded (event loop callbacks).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "supervisor/console_listener.h"
#include "supervisor/control_server.h"
#include "supervisor/exec_pipes.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

// A non-tty exec's output is read only while the client's queue is below this, so a slow client
// makes the process wait on its full pipe, never the supervisor; checked again every poll.
constexpr size_t kExecHighWater = size_t{256} * 1024;
constexpr auto kExecResumePoll = std::chrono::milliseconds(10);
constexpr size_t kExecChunk = size_t{64} * 1024;
// Stdin a process has not read yet; past it the client's frames wait in its socket.
constexpr size_t kExecStdinMax = size_t{1} << 20;

// The pty master of a tty exec, sized as the client asked and blocking (the client shares the
// open file description and expects a blocking master).
Result<os::UniqueFd> TakeExecMaster(ConsoleListener& console, const pod::ExecRequest& request) {
  ASSIGN_OR_RETURN(os::UniqueFd master, console.TakeMaster());
  if (request.rows != 0) {
    winsize ws{request.rows, request.cols, 0, 0};
    (void)::ioctl(master.get(), TIOCSWINSZ, &ws);
  }
  int flags = ::fcntl(master.get(), F_GETFL);
  if (flags < 0 || ::fcntl(master.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "pty master"));
  }
  return master;
}

}  // namespace

void ControlServer::Exec(uint64_t id, const pod::ControlRequest& request, pod::Frame& frame) {
  ExecStdio stdio;
  std::optional<ConsoleListener> console;
  std::unique_ptr<ExecPipes> pipes;
  std::array<os::UniqueFd, 3> child;  // the process's ends of its pipes
  if (request.exec.tty) {
    auto listener = ConsoleListener::Create(pod_dir_, fmt::format("exec-{}.sock", next_exec_++));
    if (!listener) {
      Reply(id, Err(std::move(listener).error()));
      return;
    }
    console.emplace(std::move(*listener));
    stdio.console_socket = console->path();
  } else {
    pipes = std::make_unique<ExecPipes>(loop_);
    if (auto made = MakeExecPipes(request.exec.interactive, pipes.get(), &child); !made) {
      Reply(id, Err(std::move(made).error()));
      return;
    }
    stdio.in = child[0].get();
    stdio.out = child[1].get();
    stdio.err = child[2].get();
  }
  std::weak_ptr<bool> alive = alive_;
  auto on_exit = [this, alive, id](int exit_code) {
    if (!alive.expired()) {
      FinishExec(id, exit_code);
    }
  };
  auto pid = controller_.Exec(request.app, request.exec, stdio, on_exit);
  frame.fds.clear();
  for (os::UniqueFd& fd : child) {
    fd.Reset();  // the process has its own copies now
  }
  if (!pid) {
    Reply(id, Err(std::move(pid).error()));
    return;
  }
  std::vector<os::UniqueFd> fds;
  if (console) {
    auto master = TakeExecMaster(*console, request.exec);
    if (!master) {
      Reply(id, Err(std::move(master).error().AddContext("exec")));
      return;
    }
    fds.push_back(std::move(*master));
  }
  if (auto it = connections_.find(id); it != connections_.end() && pipes) {
    it->second->pipes = std::move(pipes);
  }
  // The reply goes first; the output is read from the loop, after it.
  Reply(id, Ok(), *pid, std::move(fds), /*close=*/false);
  WatchExecOutput(id, true);
}

void ControlServer::FinishExec(uint64_t id, int exit_code) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;  // the client went away
  }
  Pending& pending = *it->second;
  if (!pending.replied) {
    pending.exit_code = exit_code;  // sent right after the reply
    return;
  }
  if (pending.pipes) {
    // What the process wrote before it exited comes before kExit; a descendant that still
    // holds the pipes is not waited for.
    for (bool is_stderr : {false, true}) {
      for (int chunks = 0; chunks < 64 && OnExecOutput(id, is_stderr); ++chunks) {
      }
    }
    pending.pipes.reset();
  }
  pending.connection->Send(pod::FrameType::kExit, pod::EncodeExit(exit_code));
  pending.connection->CloseAfterFlush();
}

void ControlServer::WatchExecOutput(uint64_t id, bool watch) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->pipes) {
    return;
  }
  ExecPipes& pipes = *it->second->pipes;
  for (bool is_stderr : {false, true}) {
    int fd = (is_stderr ? pipes.err : pipes.out).get();
    if (fd < 0) {
      continue;
    }
    if (!watch) {
      pipes.Unwatch(fd);
    } else if (!pipes.watched.contains(fd)) {
      auto added = loop_.Add(
          fd, EPOLLIN, [this, id, is_stderr](uint32_t) { (void)OnExecOutput(id, is_stderr); });
      if (added) {
        pipes.watched.insert(fd);
      } else {
        log::Warning("exec output: {}", added.error().ToString());
      }
    }
  }
}

bool ControlServer::OnExecOutput(uint64_t id, bool is_stderr) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->pipes) {
    return false;
  }
  Pending& pending = *it->second;
  ExecPipes& pipes = *pending.pipes;
  os::UniqueFd& fd = is_stderr ? pipes.err : pipes.out;
  std::array<char, kExecChunk> buffer{};
  ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return false;
  }
  if (n <= 0) {
    pipes.Close(fd);  // that stream ended
    return false;
  }
  auto type = is_stderr ? pod::FrameType::kStderr : pod::FrameType::kStdout;
  if (!pending.connection->Send(type, std::string_view(buffer.data(), static_cast<size_t>(n)))) {
    return false;  // the connection is failing; Drop follows from the loop
  }
  if (pending.connection->queued() >= kExecHighWater) {
    if (pipes.resume == 0) {
      WatchExecOutput(id, false);
      pipes.resume = loop_.AddTimer(kExecResumePoll, [this, id] { ResumeExecOutput(id); });
    }
    return false;
  }
  return true;
}

void ControlServer::ResumeExecOutput(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->pipes) {
    return;
  }
  ExecPipes& pipes = *it->second->pipes;
  pipes.resume = 0;
  if (it->second->connection->queued() >= kExecHighWater / 2) {
    pipes.resume = loop_.AddTimer(kExecResumePoll, [this, id] { ResumeExecOutput(id); });
    return;
  }
  WatchExecOutput(id, true);
}

void ControlServer::OnExecInput(uint64_t id, const pod::Frame& frame) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->pipes || !it->second->pipes->in) {
    return;
  }
  ExecPipes& pipes = *it->second->pipes;
  if (frame.type == pod::FrameType::kStdin) {
    if (!pipes.stdin_eof) {
      pipes.stdin_queue.append(frame.payload);
    }
  } else if (frame.type == pod::FrameType::kStdinClose) {
    pipes.stdin_eof = true;
  } else {
    return;
  }
  FlushExecStdin(id);
}

void ControlServer::FlushExecStdin(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || !it->second->pipes || !it->second->pipes->in) {
    return;
  }
  ExecPipes& pipes = *it->second->pipes;
  while (!pipes.stdin_queue.empty()) {
    ssize_t n = ::write(pipes.in.get(), pipes.stdin_queue.data(), pipes.stdin_queue.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    if (n < 0) {
      pipes.stdin_queue.clear();  // EPIPE: the process closed its stdin; the rest is dropped
      pipes.stdin_eof = true;
      break;
    }
    pipes.stdin_queue.erase(0, static_cast<size_t>(n));
  }
  if (pipes.stdin_queue.empty()) {
    if (pipes.stdin_eof) {
      pipes.Close(pipes.in);
    } else {
      pipes.Unwatch(pipes.in.get());
    }
  } else if (!pipes.watched.contains(pipes.in.get())) {
    auto added = loop_.Add(pipes.in.get(), EPOLLOUT, [this, id](uint32_t) { FlushExecStdin(id); });
    if (added) {
      pipes.watched.insert(pipes.in.get());
    }
  }
  // A client sending faster than the process reads waits (bounded queue).
  bool pause = pipes.stdin_queue.size() >= kExecStdinMax;
  if (pause != pipes.input_paused) {
    pipes.input_paused = pause;
    it->second->connection->PauseReading(pause);
  }
}

}  // namespace comet::supervisor
