// Console socket client.
#include "runtime/console.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "os/fd_passing.h"
#include "os/unique_fd.h"

namespace comet::runtime {

Status SendFdToSocket(const std::string& socket_path, int fd, const std::string& payload) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Err(Error::Invalid("socket path too long: " + socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  os::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return Err(Error::FromErrno("socket"));
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr API
  if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Err(Error::FromErrno("connect", socket_path));
  }
  std::string data = payload.empty() ? std::string(1, '\0') : payload;
  if (int rc = os::SendWithFd(sock.get(), data.data(), data.size(), fd); rc != 0) {
    return Err(Error::FromCode(-rc, "sendmsg", socket_path));
  }
  return Ok();
}

}  // namespace comet::runtime
