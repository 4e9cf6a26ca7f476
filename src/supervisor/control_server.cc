// ControlServer: <pod>/ctl. Each connection carries one request; replies are queued on the
// connection (never a blocking write), exec connections stay open for the kExit frame and
// attach connections are handed to AppIo.
#include "supervisor/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "pod/pod_dir.h"
#include "supervisor/console_listener.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

constexpr size_t kMaxConnections = 64;
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

}  // namespace

struct ControlServer::Pending {
  std::unique_ptr<StreamConnection> connection;
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
  if (listener_) {
    loop_.Remove(listener_.get());
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
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        log::Warning("control socket: {}", Error::FromErrno("accept").ToString());
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
    auto started = pending->connection->Start(
        [this, id](pod::Frame frame) { OnRequest(id, std::move(frame)); },
        [this, id] { Drop(id); });
    if (!started) {
      continue;
    }
    pending->timeout = loop_.AddTimer(
        std::chrono::duration_cast<std::chrono::milliseconds>(kRequestTimeout), [this, id] {
          if (auto it = connections_.find(id); it != connections_.end()) {
            it->second->timeout = 0;
            if (!it->second->got_request) {
              Drop(id);
            }
          }
        });
    connections_[id] = std::move(pending);
  }
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
  if (it == connections_.end() || it->second->got_request) {
    return;  // after the request, client frames (e.g. a stray kResize) are ignored
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
  if (request->op != pod::ControlOp::kExec && !frame.fds.empty()) {
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
    case pod::ControlOp::kAttach: {
      auto tty = io_.CanAttach(request.app);
      if (!tty) {
        Reply(id, Err(std::move(tty).error()));
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
      return;
    }
  }
  Reply(id, Err(Error::Invalid("control socket: unsupported operation")));
}

void ControlServer::Exec(uint64_t id, const pod::ControlRequest& request, pod::Frame& frame) {
  ExecStdio stdio;
  std::optional<ConsoleListener> console;
  if (request.exec.tty) {
    if (!frame.fds.empty()) {
      Reply(id, Err(Error::Invalid("exec with a tty: unexpected file descriptors")));
      return;
    }
    auto listener = ConsoleListener::Create(pod_dir_, fmt::format("exec-{}.sock", next_exec_++));
    if (!listener) {
      Reply(id, Err(std::move(listener).error()));
      return;
    }
    console.emplace(std::move(*listener));
    stdio.console_socket = console->path();
  } else {
    if (frame.fds.size() != 3) {
      Reply(id, Err(Error::Invalid("exec without a tty: stdin, stdout and stderr are needed")));
      return;
    }
    stdio.in = frame.fds[0].get();
    stdio.out = frame.fds[1].get();
    stdio.err = frame.fds[2].get();
  }
  std::weak_ptr<bool> alive = alive_;
  auto on_exit = [this, alive, id](int exit_code) {
    if (alive.expired()) {
      return;
    }
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;  // the client went away
    }
    if (!it->second->replied) {
      it->second->exit_code = exit_code;  // sent right after the reply
      return;
    }
    it->second->connection->Send(pod::FrameType::kExit, pod::EncodeExit(exit_code));
    it->second->connection->CloseAfterFlush();
  };
  auto pid = controller_.Exec(request.app, request.exec, stdio, on_exit);
  frame.fds.clear();  // the process has its own copies now
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
  Reply(id, Ok(), *pid, std::move(fds), /*close=*/false);
}

}  // namespace comet::supervisor
