// Checking and creating the host paths of a pod's hostPath volumes before the pod exists, by
// hostPath.type as the kubelet does — except that a missing path of type "" is created as a
// directory too (rktnetes failed such pods; the seed's mount-dne Pod runs). Not thread-safe for
// the same path (two pods creating it race; the loser finds it made, which is fine).
#ifndef COMET_KUBE_HOST_PATH_H_
#define COMET_KUBE_HOST_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/to_comet.h"

namespace comet::kube {

// "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice.
[[nodiscard]] bool IsValidHostPathType(std::string_view type);

// "" and DirectoryOrCreate: a missing path becomes a directory (mode 0755, parents too); an
// existing one must be a directory for DirectoryOrCreate ("" accepts anything). FileOrCreate: a
// missing path becomes an empty file (0644, parents 0755 as needed); an existing one must be a
// regular file. The other types: the path must exist and be of that type (symlinks followed).
// Appends what it created, parents first, to *created so that UndoHostPaths can take it back.
// Errors name the requirement's field: `spec.volumes[2].hostPath: /x: not a directory`.
[[nodiscard]] Status PrepareHostPath(const HostPathRequirement& requirement,
                                     std::vector<std::string>* created);

// Removes what PrepareHostPath created, last first: files, and directories that are still empty.
// Best effort (stage0 calls it while failing already).
void UndoHostPaths(const std::vector<std::string>& created);

}  // namespace comet::kube

#endif  // COMET_KUBE_HOST_PATH_H_
