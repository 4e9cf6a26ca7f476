// ConsoleListener: a listening unix socket that receives one pty master.
#include "supervisor/console_listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "os/fd_passing.h"

namespace comet::supervisor {

Result<ConsoleListener> ConsoleListener::Create(const std::string& dir, const std::string& name) {
  ConsoleListener listener;
  int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return Err(Error::FromErrno("open", dir));
  }
  listener.dir_.Reset(dir_fd);
  listener.name_ = name;
  std::string full = dir + "/" + name;
  std::string bind_path = full;
  listener.path_ = full;
  sockaddr_un addr{};
  if (full.size() >= sizeof(addr.sun_path)) {
    bind_path = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
    listener.path_ = fmt::format("/proc/{}/fd/{}/{}", ::getpid(), dir_fd, name);
    if (listener.path_.size() >= sizeof(addr.sun_path)) {
      return Err(Error::Invalid(fmt::format("console socket name too long: {}", name)));
    }
  }
  (void)::unlinkat(dir_fd, name.c_str(), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0) {
    return Err(Error::FromErrno("socket", "console"));
  }
  listener.listener_.Reset(sock);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, bind_path.c_str(), bind_path.size() + 1);
  if (::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Err(Error::FromErrno("bind", full));
  }
  if (::fchmodat(dir_fd, name.c_str(), 0600, 0) != 0 || ::listen(sock, 1) != 0) {
    auto error = Error::FromErrno("listen", full);
    (void)::unlinkat(dir_fd, name.c_str(), 0);
    return Err(error);
  }
  return listener;
}

ConsoleListener::~ConsoleListener() {
  if (dir_ && listener_) {
    (void)::unlinkat(dir_.get(), name_.c_str(), 0);
  }
}

Result<os::UniqueFd> ConsoleListener::TakeMaster() {
  int conn = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) {
    return Err(Error::FromErrno("accept", "console socket: no terminal was sent"));
  }
  os::UniqueFd connection(conn);
  std::array<char, 256> payload{};
  int master = -1;
  long n = os::ReceiveWithFd(connection.get(), payload.data(), payload.size(), &master);
  if (n < 0) {
    return Err(Error::FromCode(static_cast<int>(-n), "recvmsg", "console socket"));
  }
  if (master < 0) {
    return Err(Error(EPROTO, "console socket: the message carried no terminal"));
  }
  os::UniqueFd fd(master);
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "pty master"));
  }
  return fd;
}

}  // namespace comet::supervisor
