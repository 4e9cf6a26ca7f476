// ControlServer: <pod>/ctl. Each connection carries one request from a peer that must be the
// supervisor's own uid or root; replies are queued on the connection (never a blocking write).
// Exec connections are served in control_server_exec.cc; attach connections go to AppIo.
#include "supervisor/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "pod/pod_dir.h"
#include "supervisor/exec_pipes.h"
#include "supervisor/stream_connection.h"

namespace comet::supervisor {
namespace {

constexpr size_t kMaxConnections = 64;
// Attach clients live in AppIo, outside connections_: bounded per app and in all.
constexpr size_t kMaxAttachesPerApp = 16;
constexpr size_t kMaxAttaches = 64;
// accept(2) out of fds: the listener is unwatched this long (level-triggered, it would spin).
constexpr auto kAcceptPause = std::chrono::seconds(1);
constexpr size_t kMaxQueued = 1 << 20;
// A client that connects and says nothing is dropped after this long.
constexpr auto kRequestTimeout = std::chrono::seconds(30);

// The socket's mode (0600) is the first gate; this is the second, should the mode or the
// permissions of a directory above it ever be loosened: only the supervisor's own uid or root
// (uid 0 in its user namespace; a uid unmapped there reads as the overflow uid) may drive the
// pod. SO_PEERCRED holds the peer's credentials as of its connect(2) (unix(7)).
bool PeerMayControl(int fd) {
  ucred cred{};
  socklen_t size = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) {
    log::Warning("control socket: {}", Error::FromErrno("getsockopt", "SO_PEERCRED").ToString());
    return false;
  }
  if (cred.uid == ::geteuid() || cred.uid == 0) {
    return true;
  }
  log::Warning("control socket: refused uid {} (pid {}): not the supervisor's uid ({}) or root",
               cred.uid, cred.pid, ::geteuid());
  return false;
}

}  // namespace

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
    if (!PeerMayControl(socket.get())) {
      continue;  // closed unanswered
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

}  // namespace comet::supervisor
