// ConsoleSocket: SCM_RIGHTS receiver for the runtime's pty master.
#include "e2e/console_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace comet::e2e {
namespace {

bool WaitReadable(int fd, int timeout_ms) {
  struct pollfd pfd = {fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&pfd, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

ConsoleSocket::ConsoleSocket(std::string path) : path_(std::move(path)) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    return;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return;
  }
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 4) != 0) {
    ::close(fd);
    return;
  }
  listen_fd_ = fd;
}

ConsoleSocket::~ConsoleSocket() {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

int ConsoleSocket::ReceiveMaster(int timeout_ms) const {
  if (listen_fd_ < 0 || !WaitReadable(listen_fd_, timeout_ms)) {
    return -1;
  }
  int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0 || !WaitReadable(conn, timeout_ms)) {
    if (conn >= 0) {
      ::close(conn);
    }
    return -1;
  }
  char data[256];
  struct iovec iov = {data, sizeof data};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  ::close(conn);
  struct cmsghdr* cmsg = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
    return -1;
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

std::string ReadPty(int master_fd, int timeout_ms) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!WaitReadable(master_fd, static_cast<int>(left.count()) + 1)) {
      break;
    }
    char buf[4096];
    ssize_t n = ::read(master_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // EIO: every slave fd is closed
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace comet::e2e
