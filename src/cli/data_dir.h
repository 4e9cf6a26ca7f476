// Where comet keeps its state: rkt's --dir, defaulting to /var/lib/comet as root and
// $XDG_DATA_HOME/comet (~/.local/share/comet) otherwise (DESIGN.md §3). Thread-safe.
#ifndef COMET_CLI_DATA_DIR_H_
#define COMET_CLI_DATA_DIR_H_

#include <string>

#include "base/result.h"

namespace comet::cli {

// `flag` when given (made absolute), else the default for this user.
[[nodiscard]] Result<std::string> DataDir(const std::string& flag);

// <data dir>/images.
[[nodiscard]] std::string ImageStoreDir(const std::string& data_dir);
// The data dir of a store directly inside it (<data dir>/images, <data dir>/pods).
[[nodiscard]] std::string DataDirOf(const std::string& store_root);

}  // namespace comet::cli

#endif  // COMET_CLI_DATA_DIR_H_
