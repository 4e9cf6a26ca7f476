// EventFollower: reads the event log (log.1, then log) and follows it across rotations.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "os/file.h"
#include "pod/event_log.h"

namespace comet::pod {
namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;

Result<os::UniqueFd> OpenForReading(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return os::UniqueFd();
    }
    return Err(Error::FromErrno("open", path));
  }
  return os::UniqueFd(fd);
}

}  // namespace

Result<EventFollower> EventFollower::Open(const std::string& data_dir) {
  EventFollower follower(EventLogDir(data_dir));
  int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0) {
    return Err(Error::FromErrno("inotify_init1"));
  }
  follower.inotify_ = os::UniqueFd(inotify);
  // The log's directory, not its file: creation and rotation (a rename) show there too. A
  // missing directory is watched once it appears (see Wait).
  (void)::inotify_add_watch(inotify, follower.dir_.c_str(),
                            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  // Start from the oldest kept file.
  ASSIGN_OR_RETURN(follower.file_, OpenForReading(os::JoinPath(follower.dir_, "log.1")));
  if (follower.file_.valid()) {
    follower.reading_old_ = true;
  } else {
    RETURN_IF_ERROR(follower.OpenCurrent());
  }
  return follower;
}

Status EventFollower::OpenCurrent() {
  ASSIGN_OR_RETURN(file_, OpenForReading(os::JoinPath(dir_, "log")));
  partial_.clear();
  reading_old_ = false;
  file_dev_ = 0;
  file_ino_ = 0;
  if (file_.valid()) {
    struct stat st {};
    if (::fstat(file_.get(), &st) != 0) {
      return Err(Error::FromErrno("fstat", os::JoinPath(dir_, "log")));
    }
    file_dev_ = st.st_dev;
    file_ino_ = st.st_ino;
  }
  return Ok();
}

Status EventFollower::Drain(const std::function<void(Event)>& sink) {
  if (!file_.valid()) {
    return Ok();
  }
  std::array<char, kReadChunk> buffer{};
  for (;;) {
    ssize_t n = ::read(file_.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read", os::JoinPath(dir_, reading_old_ ? "log.1" : "log")));
    }
    if (n == 0) {
      return Ok();
    }
    partial_.append(buffer.data(), static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n', start)) {
      auto event = ParseEventLine(std::string_view(partial_).substr(start, nl - start));
      if (event) {  // a line comet did not write is skipped, not fatal
        sink(std::move(*event));
      }
      start = nl + 1;
    }
    partial_.erase(0, start);
    if (partial_.size() > kEventLineMaxBytes) {
      partial_.clear();  // no newline in sight: not a line of ours
    }
  }
}

Status EventFollower::ReadAvailable(const std::function<void(Event)>& sink) {
  RETURN_IF_ERROR(Drain(sink));
  if (reading_old_) {
    // log.1 is complete (nobody writes to a rotated file); go on with the current log.
    RETURN_IF_ERROR(OpenCurrent());
    return Drain(sink);
  }
  // Rotated since we opened our file? Then ours (now log.1) is complete: finish it, switch.
  struct stat st {};
  const std::string log = os::JoinPath(dir_, "log");
  if (::stat(log.c_str(), &st) != 0) {
    return errno == ENOENT ? Ok() : Status(Err(Error::FromErrno("stat", log)));
  }
  if (!file_.valid() || st.st_dev != file_dev_ || st.st_ino != file_ino_) {
    // Lines may have reached our file between the first drain and the rotation.
    RETURN_IF_ERROR(Drain(sink));
    RETURN_IF_ERROR(OpenCurrent());
    return Drain(sink);
  }
  return Ok();
}

Result<bool> EventFollower::Wait(std::chrono::milliseconds timeout) {
  // Before the first event, events/ may not exist: keep trying to watch it.
  (void)::inotify_add_watch(inotify_.get(), dir_.c_str(),
                            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  struct pollfd pfd {
    inotify_.get(), POLLIN, 0
  };
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) {
    if (errno == EINTR) {
      return true;
    }
    return Err(Error::FromErrno("poll", "inotify"));
  }
  if (ready == 0) {
    return false;
  }
  // Drain the queue: what changed does not matter, ReadAvailable looks at the files.
  std::array<char, 4096> events{};
  while (::read(inotify_.get(), events.data(), events.size()) > 0) {
  }
  return true;
}

}  // namespace comet::pod
