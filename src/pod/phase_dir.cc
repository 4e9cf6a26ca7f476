// A pod's phase directory: paths, flock(2) and rename(2) (see phase_dir.h). Stateless; safe
// across threads and processes.
#include "pod/phase_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "os/file.h"
#include "pod/manifest.h"

namespace comet::pod::internal {
namespace {

using std::chrono::milliseconds;

// How long a non-blocking exclusive lock is retried: someone's listing (a momentary shared lock
// taken to tell running from exited) must not make a transition fail.
constexpr milliseconds kLockRetryFor{200};

}  // namespace

int RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno == EINVAL || errno == ENOSYS) {
    if (::rename(from.c_str(), to.c_str()) == 0) {
      return 0;
    }
  }
  return errno;
}

std::string PodPath(const std::string& root, std::string_view phase, std::string_view uuid) {
  return os::JoinPath(os::JoinPath(root, phase), uuid);
}

Status CheckUuid(std::string_view uuid) {
  if (!IsValidUuid(uuid)) {
    return Err(Error::Invalid(fmt::format("\"{}\" is not a pod uuid", uuid)));
  }
  return Ok();
}

Result<os::UniqueFd> OpenPodDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  return os::UniqueFd(fd);
}

int Flock(int fd, int op) {
  while (::flock(fd, op) != 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

int TryLockExclusive(int fd) {
  auto deadline = std::chrono::steady_clock::now() + kLockRetryFor;
  while (true) {
    int err = Flock(fd, LOCK_EX | LOCK_NB);
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      return err;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

Status Move(const std::string& root, std::string_view uuid, std::string_view from,
            std::string_view to) {
  std::string src = PodPath(root, from, uuid);
  std::string dst = PodPath(root, to, uuid);
  int err = RenameNoReplace(src, dst);
  if (err != 0) {
    return Err(Error::FromCode(err, "rename", fmt::format("{} to {}", src, dst)));
  }
  return Ok();
}

Result<std::optional<os::UniqueFd>> LockInPhase(const std::string& root, std::string_view phase,
                                                std::string_view uuid, std::string_view held_as) {
  std::string path = PodPath(root, phase, uuid);
  auto fd = OpenPodDir(path);
  if (!fd) {
    if (fd.error().code() == ENOENT) {
      return std::optional<os::UniqueFd>();
    }
    return Err(std::move(fd).error());
  }
  int err = TryLockExclusive(fd->get());
  if (err == EWOULDBLOCK) {
    return Err(Error(EBUSY, fmt::format("pod {} is {} by another process", uuid, held_as)));
  }
  if (err != 0) {
    return Err(Error::FromCode(err, "flock", path));
  }
  return std::optional<os::UniqueFd>(std::move(*fd));
}

}  // namespace comet::pod::internal
