// FileLock over flock(2).
#include "os/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <utility>

namespace comet::os {
namespace {

Result<UniqueFd> LockFd(const std::string& path, FileLock::Mode mode, bool wait,
                        bool directory = false) {
  int fd = directory ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                     : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_CREAT, 0644);
  if (fd < 0 && errno == EISDIR) {
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  UniqueFd owned(fd);
  int op = (mode == FileLock::Mode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  while (::flock(owned.get(), op) != 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("flock", path));
    }
  }
  return owned;
}

}  // namespace

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, LockFd(path, mode, true));
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::AcquireDirectory(const std::string& path, Mode mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, LockFd(path, mode, true, true));
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::TryAcquire(const std::string& path, Mode mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, LockFd(path, mode, false));
  return FileLock(std::move(fd));
}

}  // namespace comet::os
