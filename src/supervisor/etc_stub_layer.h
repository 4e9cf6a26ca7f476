// The /etc stub layer: a directory tree of empty files (in the data directory, on the image
// layers' filesystem) standing in for the /etc files every app gets bind-mounted from the pod
// (hosts, hostname and, when the pod has one, resolv.conf). Stacked below an app's image layers
// (image::SnapshotOptions::base_layer), it gives these mount points to images that lack them
// without copying /etc up into the app's upper layer and making a file there (work on the data
// directory's disk at every start and removal of a pod). Being the lowest layer it only adds what
// the image lacks. Not thread-safe within a process; safe between processes (made in a temporary
// directory, then renamed).
#ifndef COMET_SUPERVISOR_ETC_STUB_LAYER_H_
#define COMET_SUPERVISOR_ETC_STUB_LAYER_H_

#include <string>

#include "base/result.h"

namespace comet::supervisor {

// The stub layer under `stubs_dir` (made mode 0700 when missing, out of a group-shared tree as
// os::MakeUnsharedDir does; it must be this user's directory that nobody else may write to)
// holding etc/hosts and etc/hostname, and
// etc/resolv.conf when `resolv_conf`: made when missing, refused unless it is a directory of
// this user that nobody else may write to. Returns the layer's path.
[[nodiscard]] Result<std::string> EnsureEtcStubLayer(const std::string& stubs_dir,
                                                     bool resolv_conf);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_ETC_STUB_LAYER_H_
