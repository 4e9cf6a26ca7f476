// ManifestWatch (see manifest_watch.h).
#include "node/manifest_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "node/desired_pods.h"

namespace comet::node {
namespace {

// A file is read once its writer closes it (IN_CLOSE_WRITE), never on IN_CREATE or IN_MODIFY: a
// file being written (`> web.yaml` truncates it first) would read as fewer pods or none, and the
// agent would stop the pods missing from it. Renames of an editor's temp file over a manifest are
// IN_MOVED_TO; symlinks and hard links made in the directory are seen at the periodic resync; the
// directory itself going away ends the watch (IN_IGNORED follows IN_DELETE_SELF / the unmount).
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

Result<ManifestWatch> ManifestWatch::Open(std::string dir) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("inotify_init1"));
  }
  ManifestWatch watch(std::move(dir), os::UniqueFd(fd));
  (void)watch.Rearm();
  return watch;
}

bool ManifestWatch::Rearm() {
  if (wd_ >= 0) {
    return false;
  }
  const int wd = ::inotify_add_watch(fd_.get(), dir_.c_str(), kMask);
  if (wd < 0) {
    return false;  // not there yet: the periodic resync tries again
  }
  wd_ = wd;
  return true;
}

Result<bool> ManifestWatch::Drain() {
  bool relevant = false;
  // Aligned for struct inotify_event, large enough for many events with names.
  alignas(inotify_event) std::array<char, size_t{16} * 1024> buffer{};
  while (true) {
    const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        return relevant;
      }
      return Err(Error::FromErrno("reading inotify events of", dir_));
    }
    if (n == 0) {
      return relevant;
    }
    for (ssize_t offset = 0; offset < n;) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + offset, sizeof(event));
      const char* name = buffer.data() + offset + sizeof(event);
      offset += static_cast<ssize_t>(sizeof(event) + event.len);
      relevant = Handle(event, event.len > 0 ? name : "") || relevant;
    }
  }
}

bool ManifestWatch::Handle(const inotify_event& event, const char* name) {
  if ((event.mask & IN_Q_OVERFLOW) != 0) {
    return true;  // events were lost: re-read everything
  }
  if ((event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
    if (event.wd == wd_) {
      if ((event.mask & IN_IGNORED) == 0) {
        (void)::inotify_rm_watch(fd_.get(), wd_);
      }
      wd_ = -1;
      log::Warning("manifest directory {} went away; watching for it again", dir_);
    }
    return true;
  }
  return IsManifestFileName(name);
}

}  // namespace comet::node
