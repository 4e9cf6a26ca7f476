// inotify for the pod catalog: which pods moved between phase directories (a watch on each) and
// which pods' files changed (watches on a pod's directory, its state directory and its apps'
// status directories: comet's writers replace files there by rename). Not thread-safe: the
// catalog calls it under its mutex.
#ifndef COMET_API_POD_WATCH_H_
#define COMET_API_POD_WATCH_H_

#include <array>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "os/unique_fd.h"
#include "pod/pod_store_scan.h"

namespace comet::api {

// What happened since the last Drain.
struct PodChanges {
  bool overflow = false;          // events were lost: nothing cached can be trusted
  bool phases_lost = false;       // a phase directory went (the data directory was removed)
  std::set<std::string> moved;    // appeared in or left a phase directory
  std::set<std::string> changed;  // a watched directory of the pod changed
};

class PodWatcher {
 public:
  // Watches the scanner's six phase directories; nullptr (the caller falls back to stat-based
  // checks) when inotify or a watch is unavailable. `max_pod_watches` bounds WatchPod's total.
  [[nodiscard]] static std::unique_ptr<PodWatcher> Open(const pod::PodScanner& scanner,
                                                        size_t max_pod_watches);

  // Reads every pending event without blocking into `changes`.
  void Drain(PodChanges& changes);

  // Makes `dirs` (the existing ones; a missing one is skipped: its parent is in `dirs` and sees
  // it appear) the watches of pod `uuid`, dropping those of `wds` no longer needed; `wds`
  // becomes the new set. False (and no watch left for the pod) when the bound or the kernel's
  // limit (max_user_watches) is reached: the caller checks that pod by stat instead.
  [[nodiscard]] bool WatchPod(const std::string& uuid, const std::vector<std::string>& dirs,
                              std::vector<int>& wds);
  void UnwatchPod(std::vector<int>& wds);

  [[nodiscard]] size_t pod_watches() const { return pod_of_.size(); }

 private:
  explicit PodWatcher(os::UniqueFd fd, size_t max_pod_watches)
      : fd_(std::move(fd)), max_pod_watches_(max_pod_watches) {}
  void Handle(int wd, uint32_t mask, const char* name, PodChanges& changes);

  os::UniqueFd fd_;
  const size_t max_pod_watches_;
  std::array<int, pod::kPhaseCount> phase_wds_{};
  std::unordered_map<int, std::string> pod_of_;  // watch descriptor -> pod uuid
};

}  // namespace comet::api

#endif  // COMET_API_POD_WATCH_H_
