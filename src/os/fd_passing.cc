// SCM_RIGHTS send and receive.
#include "os/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace comet::os {

int SendWithFd(int sock, const void* data, size_t size, int fd) noexcept {
  struct iovec iov {};
  iov.iov_base = const_cast<void*>(
      data);  // NOLINT(cppcoreguidelines-pro-type-const-cast): sendmsg does not write
  iov.iov_len = size;
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) {
      return -errno;
    }
  }
  return 0;
}

long ReceiveWithFd(int sock, void* data, size_t size, int* fd) noexcept {
  struct iovec iov {};
  iov.iov_base = data;
  iov.iov_len = size;
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = 0;
  while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) {
      return -errno;
    }
  }
  int received = -1;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&received, CMSG_DATA(cmsg), sizeof(int));
    }
  }
  if (fd != nullptr) {
    *fd = received;
  } else if (received >= 0) {
    ::close(received);
  }
  return n;
}

}  // namespace comet::os
