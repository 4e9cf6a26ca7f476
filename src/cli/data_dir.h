// Where comet keeps its state: rkt's --dir, defaulting to /var/lib/comet as root and
// $XDG_DATA_HOME/comet (~/.local/share/comet) otherwise (DESIGN.md §3). Thread-safe.
#ifndef COMET_CLI_DATA_DIR_H_
#define COMET_CLI_DATA_DIR_H_

#include <string>

#include "base/result.h"

namespace comet::cli {

// `flag` when given (made absolute), else the default for this user.
[[nodiscard]] Result<std::string> DataDir(const std::string& flag);

// The group the api-service runs in (docs/api-service.md "Running it as a group member").
inline constexpr const char* kApiGroup = "comet";

// Called before a command opens the image store or the pods directory. Makes `data_dir` when it
// is missing and this process is root in the initial user namespace and the group kApiGroup
// exists: group kApiGroup, mode 2750 (setgid: what is made below inherits the group), missing
// parents 0755, so that the api-service reads pods/, images/ and events/ as a group member.
// Otherwise makes nothing (the stores make the directory as they always did). When `data_dir`
// is shared with a group (os::SharedGroup), clears group read and search from this process's
// umask, which the supervisor inherits, so the group gets the modes comet asks for (0640, 0750)
// whatever umask comet was started with.
[[nodiscard]] Status PrepareDataDir(const std::string& data_dir);

// `comet install`: shares an existing (or new) data directory with the group `group`, as one
// made while the group existed is (PrepareDataDir): the directory, pods/ and every pod directory
// but its apps/ and volumes/, the volatile directories of pods that run, events/, and the image
// store's root, index, blobs/ and images/ get the group, directories setgid and g+rx, files g+r
// (group write removed). Never follows a symlink it finds. Root only (EPERM); EINVAL when the
// group does not exist. Idempotent.
[[nodiscard]] Status ShareDataDir(const std::string& data_dir, const std::string& group);

// For the api-service at start: the directories it reads (the data directory, pods/ and its phase
// directories, images/ and its images/ and blobs/, events/) can be opened by this process where
// they exist; else EACCES naming the first that cannot, and the group to run as.
[[nodiscard]] Status CheckDataDirReadable(const std::string& data_dir);

// <data dir>/images.
[[nodiscard]] std::string ImageStoreDir(const std::string& data_dir);
// The data dir of a store directly inside it (<data dir>/images, <data dir>/pods).
[[nodiscard]] std::string DataDirOf(const std::string& store_root);

}  // namespace comet::cli

#endif  // COMET_CLI_DATA_DIR_H_
