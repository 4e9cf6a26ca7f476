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
// Rotations that may race one open before we give up making it exact (each takes a writer
// 8 MiB of events: more than one during an open is already unlikely).
constexpr int kOpenAttempts = 4;

// The identity of log.1 now; st_ino 0 when it is missing (or cannot be looked at: the caller's
// next look reports that).
struct stat StatOldLog(const std::string& dir) {
  struct stat st {};
  if (::stat(os::JoinPath(dir, "log.1").c_str(), &st) != 0) {
    st = {};
  }
  return st;
}

}  // namespace

bool EventFollower::File::Is(const struct stat& st) const {
  return valid() && st.st_dev == dev && st.st_ino == ino;
}

Result<EventFollower::File> EventFollower::OpenFile(const char* name) const {
  const std::string path = os::JoinPath(dir_, name);
  File file;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return file;
    }
    return Err(Error::FromErrno("open", path));
  }
  file.fd = os::UniqueFd(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Err(Error::FromErrno("fstat", path));
  }
  file.dev = st.st_dev;
  file.ino = st.st_ino;
  return file;
}

Status EventFollower::OpenKept() {
  // A rotation between the two opens would make `log` the file after the one that follows
  // log.1: look at log.1 again and start over when it changed.
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    ASSIGN_OR_RETURN(file_, OpenFile("log.1"));
    ASSIGN_OR_RETURN(next_, OpenFile("log"));
    const struct stat old = StatOldLog(dir_);
    if (old.st_ino == 0 ? !file_.valid() : file_.Is(old)) {
      break;
    }
  }
  if (!file_.valid()) {
    file_ = std::move(next_);
    next_ = File();
  }
  opened_any_ = file_.valid();
  partial_.clear();
  return Ok();
}

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
  RETURN_IF_ERROR(follower.OpenKept());
  return follower;
}

Status EventFollower::Drain(const std::function<void(Event)>& sink) {
  if (!file_.valid()) {
    return Ok();
  }
  std::array<char, kReadChunk> buffer{};
  for (;;) {
    ssize_t n = ::read(file_.fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read", dir_ + " (event log)"));
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

Status EventFollower::FollowRotation(const std::function<void(Event)>& sink) {
  // Nobody writes to a rotated file any more (the rotation takes the lock exclusively), so ours
  // is complete: finish it, then go on with the file that came after it — log.1 when ours was
  // rotated out twice meanwhile, else log.
  RETURN_IF_ERROR(Drain(sink));
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    if (const struct stat old = StatOldLog(dir_); old.st_ino != 0 && !file_.Is(old)) {
      RETURN_IF_ERROR(OpenKept());  // log.1 is the file after ours
      return Drain(sink);
    }
    ASSIGN_OR_RETURN(File next, OpenFile("log"));
    if (!next.valid()) {
      // Between a rotation's rename and the next append: keep ours (it is finished, and it is
      // how the next look knows where it stands) and look again later.
      return Ok();
    }
    // A second rotation between the stat and the open: `next` may be past the file after ours.
    if (const struct stat old = StatOldLog(dir_); old.st_ino != 0 && !file_.Is(old)) {
      continue;
    }
    file_ = std::move(next);
    partial_.clear();
    return Drain(sink);
  }
  return Ok();  // rotating faster than we can open: the next look tries again
}

Status EventFollower::ReadAvailable(const std::function<void(Event)>& sink) {
  if (!opened_any_) {
    // Nothing existed when we looked: whatever exists now (even rotated already) is all new.
    RETURN_IF_ERROR(OpenKept());
    if (!opened_any_) {
      return Ok();
    }
  }
  RETURN_IF_ERROR(Drain(sink));
  // A few hops at most: each is a rotation that happened while we read.
  for (int hop = 0; hop < 4; ++hop) {
    if (next_.valid()) {
      // log.1 is done; the log opened with it comes next, wherever it has been renamed since.
      file_ = std::move(next_);
      next_ = File();
      partial_.clear();
      RETURN_IF_ERROR(Drain(sink));
      continue;
    }
    struct stat st {};
    const std::string log = os::JoinPath(dir_, "log");
    if (::stat(log.c_str(), &st) != 0) {
      // Between a rotation's rename and the next append there is no log: look again later.
      return errno == ENOENT ? Ok() : Status(Err(Error::FromErrno("stat", log)));
    }
    if (file_.Is(st)) {
      return Ok();
    }
    RETURN_IF_ERROR(FollowRotation(sink));
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
