// ControlServer: <pod>/ctl. Each connection carries one request; replies are queued on the
// connection (never a blocking write), exec connections stay open for the process's output
// and its kExit frame, and attach connections are handed to AppIo.
#include "supervisor/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "pod/pod_dir.h"
#include "supervisor/console_listener.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

constexpr size_t kMaxConnections = 64;
// Attach clients live in AppIo, outside connections_: bounded per app and in all.
constexpr size_t kMaxAttachesPerApp = 16;
constexpr size_t kMaxAttaches = 64;
// accept(2) out of fds: the listener is unwatched this long (level-triggered, it would spin).
constexpr auto kAcceptPause = std::chrono::seconds(1);
// A non-tty exec's output is read only while the client's queue is below this, so a slow client
// makes the process wait on its full pipe, never the supervisor; checked again every poll.
constexpr size_t kExecHighWater = size_t{256} * 1024;
constexpr auto kExecResumePoll = std::chrono::milliseconds(10);
constexpr size_t kExecChunk = size_t{64} * 1024;
// Stdin a process has not read yet; past it the client's frames wait in its socket.
constexpr size_t kExecStdinMax = size_t{1} << 20;
constexpr size_t kMaxQueued = 1 << 20;
// A client that connects and says nothing is dropped after this long.
constexpr auto kRequestTimeout = std::chrono::seconds(30);

Status SetBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "pty master"));
  }
  return Ok();
}

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
Status MakeExecPipes(bool interactive, ExecPipes* pipes, std::array<os::UniqueFd, 3>* child) {
  auto make = [](os::UniqueFd* read_end, os::UniqueFd* write_end) -> Status {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
      return Err(Error::FromErrno("pipe2", "exec stdio"));
    }
    read_end->Reset(fds[0]);
    write_end->Reset(fds[1]);
    return Ok();
  };
  if (interactive) {
    RETURN_IF_ERROR(make(child->data(), &pipes->in));
  } else {
    ASSIGN_OR_RETURN((*child)[0], os::Open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  RETURN_IF_ERROR(make(&pipes->out, &(*child)[1]));
  RETURN_IF_ERROR(make(&pipes->err, &(*child)[2]));
  for (const os::UniqueFd* fd : {&pipes->in, &pipes->out, &pipes->err}) {
    if (*fd && ::fcntl(fd->get(), F_SETFL, O_NONBLOCK) != 0) {
      return Err(Error::FromErrno("fcntl", "exec stdio"));
    }
  }
  return Ok();
}

}  // namespace

struct ControlServer::Pending {
  std::unique_ptr<StreamConnection> connection;
  std::unique_ptr<ExecPipes> pipes;  // a non-tty exec
  bool got_request = false;
  bool replied = false;
  std::optional<int> exit_code;  // an exec that exited before its reply went out
  EventLoop::TimerId timeout = 0;
};

ControlServer::ControlServer(EventLoop& loop, PodController& controller, AppIo& io,
                             std::string pod_dir)
    : loop_(loop), controller_(controller), io_(io), pod_dir_(std::move(pod_dir)) {}

ControlServer::~ControlServer() {
  Close();
}

Status ControlServer::Listen() {
  int dir = ::open(pod_dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return Err(Error::FromErrno("open", pod_dir_));
  }
  dir_.Reset(dir);
  std::string where = pod_dir_ + "/" + pod::kControlSocket;
  (void)::unlinkat(dir, pod::kControlSocket, 0);  // a crashed supervisor's; we hold the lock
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0) {
    return Err(Error::FromErrno("socket", where));
  }
  listener_.Reset(sock);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = fmt::format("/proc/self/fd/{}/{}", dir, pod::kControlSocket);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Err(Error::FromErrno("bind", where));
  }
  if (::fchmodat(dir, pod::kControlSocket, 0600, 0) != 0) {
    return Err(Error::FromErrno("chmod", where));
  }
  if (::listen(sock, 16) != 0) {
    return Err(Error::FromErrno("listen", where));
  }
  return loop_.Add(sock, EPOLLIN, [this](uint32_t) { OnAccept(); });
}

void ControlServer::Close() {
  if (accept_pause_ != 0) {
    loop_.CancelTimer(accept_pause_);
  } else if (listener_) {
    loop_.Remove(listener_.get());
  }
  accept_pause_ = 0;
  if (listener_) {
    listener_.Reset();
    (void)::unlinkat(dir_.get(), pod::kControlSocket, 0);
  }
  for (auto& [id, pending] : connections_) {
    if (pending->timeout != 0) {
      loop_.CancelTimer(pending->timeout);
    }
    pending->connection->FlushNow();
  }
  connections_.clear();
}

void ControlServer::OnAccept() {
  while (true) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      int error = errno;
      if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        PauseAccepting(error);
      } else if (error != EAGAIN && error != EINTR && error != ECONNABORTED) {
        log::Warning("control socket: {}", Error::FromCode(error, "accept").ToString());
      }
      return;
    }
    os::UniqueFd socket(fd);
    if (connections_.size() >= kMaxConnections) {
      continue;  // too many at once: this one is closed unanswered
    }
    uint64_t id = next_id_++;
    auto pending = std::make_unique<Pending>();
    pending->connection = std::make_unique<StreamConnection>(loop_, std::move(socket), kMaxQueued);
    connections_[id] = std::move(pending);
    if (!Watch(id, true)) {
      connections_.erase(id);
      continue;
    }
    connections_[id]->timeout = loop_.AddTimer(
        std::chrono::duration_cast<std::chrono::milliseconds>(kRequestTimeout), [this, id] {
          if (auto it = connections_.find(id); it != connections_.end()) {
            it->second->timeout = 0;
            if (!it->second->got_request) {
              Drop(id);
            }
          }
        });
  }
}

// The pending connections stay in the backlog meanwhile.
void ControlServer::PauseAccepting(int error) {
  log::Warning("control socket: {}; not accepting for {} s",
               Error::FromCode(error, "accept").ToString(), kAcceptPause.count());
  loop_.Remove(listener_.get());
  accept_pause_ =
      loop_.AddTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kAcceptPause), [this] {
        accept_pause_ = 0;
        auto added = loop_.Add(listener_.get(), EPOLLIN, [this](uint32_t) { OnAccept(); });
        if (!added) {
          log::Warning("control socket: {}", added.error().ToString());
        }
      });
}

Status ControlServer::Watch(uint64_t id, bool read_frames) {
  StreamConnection* connection = Connection(id);
  if (connection == nullptr) {
    return Ok();
  }
  StreamConnection::FrameHandler on_frame;
  if (read_frames) {
    on_frame = [this, id](pod::Frame frame) { OnRequest(id, std::move(frame)); };
  }
  return connection->Start(std::move(on_frame), [this, id] { Drop(id); });
}

StreamConnection* ControlServer::Connection(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second->connection.get();
}

void ControlServer::Drop(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  if (it->second->timeout != 0) {
    loop_.CancelTimer(it->second->timeout);
  }
  connections_.erase(it);
}

void ControlServer::Reply(uint64_t id, const Status& status, pid_t pid,
                          std::vector<os::UniqueFd> fds, bool close) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  Pending& pending = *it->second;
  pod::ControlReply reply;
  reply.ok = status.has_value();
  if (!status) {
    reply.error = status.error().ToString();
    reply.code = status.error().code();
  }
  reply.pid = pid;
  pending.replied = true;
  pending.connection->Send(pod::FrameType::kReply, pod::EncodeReply(reply), std::move(fds));
  if (pending.exit_code) {
    pending.connection->Send(pod::FrameType::kExit, pod::EncodeExit(*pending.exit_code));
    close = true;
  }
  if (close || !status) {
    pending.connection->CloseAfterFlush();
  }
}

void ControlServer::OnRequest(uint64_t id, pod::Frame frame) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  if (it->second->got_request) {
    OnExecInput(id, frame);  // others (e.g. a stray kResize) are ignored
    return;
  }
  it->second->got_request = true;
  if (frame.type != pod::FrameType::kRequest) {
    Reply(id, Err(Error::Invalid("control socket: expected a request frame")));
    return;
  }
  auto request = pod::DecodeRequest(frame.payload);
  if (!request) {
    Reply(id, Err(std::move(request).error()));
    return;
  }
  if (!frame.fds.empty()) {
    Reply(id, Err(Error::Invalid("control socket: unexpected file descriptors")));
    return;
  }
  Dispatch(id, *request, frame);
}

void ControlServer::Dispatch(uint64_t id, const pod::ControlRequest& request, pod::Frame& frame) {
  switch (request.op) {
    case pod::ControlOp::kStop:
      controller_.StopPod(request.grace);
      Reply(id, Ok());
      return;
    case pod::ControlOp::kAppAdd:
      Reply(id, controller_.AddApp(*request.new_app));
      return;
    case pod::ControlOp::kAppStart:
      Reply(id, controller_.StartApp(request.app));
      return;
    case pod::ControlOp::kAppRemove:
      Reply(id, controller_.RemoveApp(request.app));
      return;
    case pod::ControlOp::kAppStop: {
      std::weak_ptr<bool> alive = alive_;
      auto stopped = controller_.StopApp(request.app, request.grace, [this, alive, id] {
        if (!alive.expired()) {
          Reply(id, Ok());
        }
      });
      if (!stopped) {
        Reply(id, stopped);
      }
      return;
    }
    case pod::ControlOp::kExec:
      Exec(id, request, frame);
      return;
    case pod::ControlOp::kAttach:
      Attach(id, request);
      return;
  }
  Reply(id, Err(Error::Invalid("control socket: unsupported operation")));
}

void ControlServer::Attach(uint64_t id, const pod::ControlRequest& request) {
  auto tty = io_.CanAttach(request.app);
  if (!tty) {
    Reply(id, Err(std::move(tty).error()));
    return;
  }
  if (io_.AttachedClients(request.app) >= kMaxAttachesPerApp ||
      io_.AttachedClients("") >= kMaxAttaches) {
    Reply(id, Err(Error(EBUSY, fmt::format("app {}: too many attached clients", request.app))));
    return;
  }
  auto it = connections_.find(id);
  pod::ControlReply reply;
  reply.ok = true;
  reply.tty = *tty;
  std::unique_ptr<StreamConnection> connection = std::move(it->second->connection);
  Drop(id);
  if (connection->Send(pod::FrameType::kReply, pod::EncodeReply(reply))) {
    io_.Attach(request.app, std::move(connection), request.attach_stdin);
  }
}

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
    auto master = console->TakeMaster();
    if (master && request.exec.rows != 0) {
      winsize ws{request.exec.rows, request.exec.cols, 0, 0};
      (void)::ioctl(master->get(), TIOCSWINSZ, &ws);
    }
    // The client shares the open file description: it expects a blocking master.
    Status ready = master ? SetBlocking(master->get()) : Status(Err(master.error()));
    if (!ready) {
      Reply(id, Err(std::move(ready).error().AddContext("exec")));
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
