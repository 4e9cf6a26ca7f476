// UniqueFd closing.
#include "os/unique_fd.h"

#include <unistd.h>

#include <cerrno>

namespace comet::os {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
  }
  fd_ = fd;
}

}  // namespace comet::os
