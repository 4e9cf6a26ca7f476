// Passing file descriptors over unix sockets (SCM_RIGHTS, unix(7)). Async-signal-safe and
// allocation-free, so that the container's setup processes can use it between fork and exec.
#ifndef COMET_OS_FD_PASSING_H_
#define COMET_OS_FD_PASSING_H_

#include <cstddef>

namespace comet::os {

// One sendmsg of `size` bytes of `data`, carrying `fd` when it is >= 0. Never raises SIGPIPE;
// retries EINTR. Returns 0 or -errno.
int SendWithFd(int sock, const void* data, size_t size, int fd) noexcept;

// One recvmsg into `data` (at most `size` bytes). A passed fd is received close-on-exec into
// `*fd` (-1 when none; closed when `fd` is null). Returns the byte count (0 at end of stream) or
// -errno.
long ReceiveWithFd(int sock, void* data, size_t size, int* fd) noexcept;

}  // namespace comet::os

#endif  // COMET_OS_FD_PASSING_H_
