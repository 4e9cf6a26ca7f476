// ManifestWatch: inotify(7) on the manifest directory, so that a pod file closed after writing,
// removed, or renamed in or out is seen at once instead of at the next periodic resync (a file
// still being written is not: read then, it would miss pods). Only says
// "something changed" (the agent re-reads the directory, which is cheap). A directory that does
// not exist yet, or is replaced, is watched again by Rearm() (the agent calls it every resync).
// Not thread-safe (the agent's loop owns it).
#ifndef COMET_NODE_MANIFEST_WATCH_H_
#define COMET_NODE_MANIFEST_WATCH_H_

#include <sys/inotify.h>

#include <string>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::node {

class ManifestWatch {
 public:
  // An inotify instance (non-blocking, close-on-exec) watching `dir` if it exists.
  [[nodiscard]] static Result<ManifestWatch> Open(std::string dir);

  // For the caller's poll loop (POLLIN).
  [[nodiscard]] int fd() const { return fd_.get(); }
  // Reads every queued event; true when one of them concerns a manifest file or the directory.
  [[nodiscard]] Result<bool> Drain();
  // Watches the directory again if it is not watched (it did not exist, or was removed or moved
  // away); true when a new watch was added (the caller should re-read the directory).
  [[nodiscard]] bool Rearm();
  [[nodiscard]] bool watching() const { return wd_ >= 0; }

 private:
  ManifestWatch(std::string dir, os::UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  // One event (`name`: the file's, or empty); true when it matters.
  bool Handle(const inotify_event& event, const char* name);

  std::string dir_;
  os::UniqueFd fd_;
  int wd_ = -1;
};

}  // namespace comet::node

#endif  // COMET_NODE_MANIFEST_WATCH_H_
