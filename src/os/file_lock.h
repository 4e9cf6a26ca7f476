// FileLock: an flock(2) on a file or directory, released when destroyed. Not thread-safe.
#ifndef COMET_OS_FILE_LOCK_H_
#define COMET_OS_FILE_LOCK_H_

#include <string>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::os {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is held.
  [[nodiscard]] static Result<FileLock> Acquire(const std::string& path, Mode mode);
  // Locks an existing directory (never creates anything); blocks. ENOENT when it is missing.
  [[nodiscard]] static Result<FileLock> AcquireDirectory(const std::string& path, Mode mode);
  // Fails with EWOULDBLOCK when another holder conflicts.
  [[nodiscard]] static Result<FileLock> TryAcquire(const std::string& path, Mode mode);

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace comet::os

#endif  // COMET_OS_FILE_LOCK_H_
