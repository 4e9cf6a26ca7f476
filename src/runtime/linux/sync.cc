// SOCK_SEQPACKET messages with SCM_RIGHTS, without allocation.
#include "runtime/linux/sync.h"

#include <cerrno>

#include "os/fd_passing.h"

namespace comet::runtime {

int SyncSend(int sock, SyncType type, int value, int fd) noexcept {
  // Static: the report is 4 KiB, too large to build on a small clone stack each time.
  static SyncMessage message;
  message.type = type;
  message.value = value;
  message.report.err = 0;
  message.report.stage[0] = '\0';
  message.report.detail[0] = '\0';
  return os::SendWithFd(sock, &message, sizeof(message), fd);
}

int SyncSendError(int sock, const ChildReport& report) noexcept {
  static SyncMessage message;
  message.type = SyncType::kError;
  message.value = 0;
  message.report = report;
  return os::SendWithFd(sock, &message, sizeof(message), -1);
}

int SyncReceive(int sock, SyncMessage* message, int* fd) noexcept {
  long n = os::ReceiveWithFd(sock, message, sizeof(*message), fd);
  if (n < 0) {
    return static_cast<int>(n);
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
