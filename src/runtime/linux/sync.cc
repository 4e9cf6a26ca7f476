// SOCK_SEQPACKET messages with SCM_RIGHTS, without allocation.
#include "runtime/linux/sync.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace comet::runtime {
namespace {

int SendRaw(int sock, const SyncMessage& message, int fd) noexcept {
  struct iovec iov {};
  iov.iov_base = const_cast<SyncMessage*>(&message);  // NOLINT: sendmsg takes a non-const iovec
  iov.iov_len = sizeof(message);
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

}  // namespace

int SyncSend(int sock, SyncType type, int value, int fd) noexcept {
  // Static: the report is 4 KiB, too large to build on a small clone stack each time.
  static SyncMessage message;
  message.type = type;
  message.value = value;
  message.report.err = 0;
  message.report.stage[0] = '\0';
  message.report.detail[0] = '\0';
  return SendRaw(sock, message, fd);
}

int SyncSendError(int sock, const ChildReport& report) noexcept {
  static SyncMessage message;
  message.type = SyncType::kError;
  message.value = 0;
  message.report = report;
  return SendRaw(sock, message, -1);
}

int SyncReceive(int sock, SyncMessage* message, int* fd) noexcept {
  struct iovec iov {};
  iov.iov_base = message;
  iov.iov_len = sizeof(*message);
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
  if (n == 0) {
    return -EPIPE;
  }
  if (static_cast<size_t>(n) != sizeof(*message)) {
    return -EPROTO;
  }
  return 0;
}

}  // namespace comet::runtime
