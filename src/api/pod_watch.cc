// inotify for the pod catalog (see pod_watch.h).
#include "api/pod_watch.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "pod/manifest.h"

namespace comet::api {
namespace {

// A pod arriving in (renamed into, made in) or leaving a phase directory.
constexpr uint32_t kPhaseMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// Anything that can change what a pod's view is read from: files renamed in or out (the writers'
// atomic replace), made, removed, written in place or re-permissioned; the directory itself
// removed.
constexpr uint32_t kPodMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |
                              IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR;

}  // namespace

std::unique_ptr<PodWatcher> PodWatcher::Open(const pod::PodScanner& scanner,
                                             size_t max_pod_watches) {
  os::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    log::Debug("api: inotify_init1: {}: pods are checked by stat", Error::FromErrno("").message());
    return nullptr;
  }
  std::unique_ptr<PodWatcher> watcher(new PodWatcher(std::move(fd), max_pod_watches));
  for (size_t i = 0; i < pod::kPhaseCount; ++i) {
    const std::string path = scanner.PhasePath(i);
    const int wd = ::inotify_add_watch(watcher->fd_.get(), path.c_str(), kPhaseMask);
    if (wd < 0) {
      log::Debug("api: {}: pods are checked by stat",
                 Error::FromErrno("inotify_add_watch", path).ToString());
      return nullptr;
    }
    watcher->phase_wds_[i] = wd;
  }
  return watcher;
}

void PodWatcher::Drain(PodChanges& changes) {
  alignas(struct inotify_event) char buffer[16 * 1024];
  while (true) {
    const ssize_t got = ::read(fd_.get(), buffer, sizeof(buffer));
    if (got <= 0) {
      if (got < 0 && errno == EINTR) {
        continue;
      }
      return;  // EAGAIN: nothing more pending
    }
    for (ssize_t at = 0; at < got;) {
      struct inotify_event event {};
      std::copy_n(buffer + at, sizeof(event), reinterpret_cast<char*>(&event));
      const char* name = event.len > 0 ? buffer + at + sizeof(event) : "";
      Handle(event.wd, event.mask, name, changes);
      at += static_cast<ssize_t>(sizeof(event) + event.len);
    }
  }
}

void PodWatcher::Handle(int wd, uint32_t mask, const char* name, PodChanges& changes) {
  if ((mask & IN_Q_OVERFLOW) != 0) {
    changes.overflow = true;
    return;
  }
  if (std::find(phase_wds_.begin(), phase_wds_.end(), wd) != phase_wds_.end()) {
    if ((mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
      changes.phases_lost = true;  // nothing would report on that phase again
      return;
    }
    if (pod::IsValidUuid(name)) {
      changes.moved.insert(name);
    }
    return;
  }
  auto it = pod_of_.find(wd);
  if (it == pod_of_.end()) {
    return;  // a watch already dropped
  }
  if ((mask & IN_IGNORED) != 0) {
    // The directory is gone (its parent saw that) or we removed the watch ourselves.
    pod_of_.erase(it);
    return;
  }
  changes.changed.insert(it->second);
}

bool PodWatcher::WatchPod(const std::string& uuid, const std::vector<std::string>& dirs,
                          std::vector<int>& wds) {
  std::vector<int> fresh;
  bool ok = pod_watches() + dirs.size() <= max_pod_watches_ + wds.size();
  for (size_t i = 0; ok && i < dirs.size(); ++i) {
    const int wd = ::inotify_add_watch(fd_.get(), dirs[i].c_str(), kPodMask);
    if (wd >= 0) {
      fresh.push_back(wd);
      pod_of_[wd] = uuid;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      // ENOSPC: max_user_watches reached; EACCES: a directory this reader may not watch (it is
      // then read by stat, and seen when it becomes readable); anything else: do not trust
      // this pod's watches.
      log::Debug("api: pod {}: {}: checked by stat", uuid,
                 Error::FromErrno("inotify_add_watch", dirs[i]).ToString());
      ok = false;
    } else if (struct stat st{}; ::lstat(dirs[i].c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      // A `state` link whose target is not made yet: what appears there would go unseen.
      ok = false;
    }
  }
  if (!ok) {
    fresh.insert(fresh.end(), wds.begin(), wds.end());
    UnwatchPod(fresh);
    wds.clear();
    return false;
  }
  // inotify_add_watch returns the same descriptor for an inode already watched: keep those.
  std::vector<int> stale;
  for (int wd : wds) {
    if (std::find(fresh.begin(), fresh.end(), wd) == fresh.end()) {
      stale.push_back(wd);
    }
  }
  UnwatchPod(stale);
  wds = std::move(fresh);
  return true;
}

void PodWatcher::UnwatchPod(std::vector<int>& wds) {
  std::sort(wds.begin(), wds.end());
  wds.erase(std::unique(wds.begin(), wds.end()), wds.end());
  for (int wd : wds) {
    // EINVAL: the kernel dropped it already (its directory was removed).
    (void)::inotify_rm_watch(fd_.get(), wd);
    pod_of_.erase(wd);
  }
  wds.clear();
}

}  // namespace comet::api
