// One pod read from its directory as the full v1alpha.Pod (manifest, apps, times), and a stamp
// of what it was read from, so that a cache can tell cheaply whether the view is still current.
// Only reads (an unprivileged reader with group access suffices). Thread-safe (no state).
#ifndef COMET_API_POD_VIEW_H_
#define COMET_API_POD_VIEW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "api/file_stamp.h"
#include "pod/pod_store.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

struct PodStamp {
  std::string phase_dir;
  pod::PodState state = pod::PodState::kUndefined;
  // The pod directory: the manifest, pid and supervisor.json are renamed into it; its ctime
  // changes when the pod moves to another phase directory.
  FileStamp dir;
  // <pod>/state, followed (the volatile directory on tmpfs, or the directory on disk that holds
  // the final statuses of an exited pod): pid and supervisor.json are renamed into it.
  FileStamp state_dir;
  std::vector<FileStamp> app_status;  // state/apps/<app>/status.json, in manifest order
  bool operator==(const PodStamp&) const = default;
  // The newest time in the stamp (0 when none), for the cache's racy-timestamp check.
  [[nodiscard]] int64_t NewestNs() const;
};

// The status files of a pod's apps as StampPod takes them: relative to <pod>/state when they are
// in it (as pod_dir.h has them), else absolute. Computed once per view, not per stamp.
[[nodiscard]] std::vector<std::string> StatusFiles(const std::string& pod_dir,
                                                   const std::vector<std::string>& app_names);

// The stamp of the pod `entry` names, with the apps' `status_files` (StatusFiles).
[[nodiscard]] PodStamp StampPod(const pod::PodEntry& entry,
                                const std::vector<std::string>& status_files);

struct PodView {
  v1alpha::Pod pod;                       // the full view (as with detail)
  std::vector<std::string> status_files;  // what the stamp covers (StatusFiles)
  PodStamp stamp;                         // taken before the files were read
};

// Reads the pod `entry` names. Never fails: embryo, preparing and aborted-prepare pods get only
// id and state (rkt's rule), and what cannot be read (a manifest torn by a power cut, a pod
// removed meanwhile) is left out, with a debug log.
[[nodiscard]] PodView ReadPodView(const pod::PodEntry& entry);

// The view without detail: no pod manifest and no apps (rkt returned apps only with detail).
void StripDetail(v1alpha::Pod& pod);

}  // namespace comet::api

#endif  // COMET_API_POD_VIEW_H_
