// comet's data directory.
#include "cli/data_dir.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cli/rootless_userns.h"
#include "os/file.h"

namespace comet::cli {

Result<std::string> DataDir(const std::string& flag) {
  if (!flag.empty()) {
    if (flag.front() == '/') {
      return flag;
    }
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
      return Err(Error::FromErrno("getcwd"));
    }
    return os::JoinPath(cwd, flag);
  }
  // Root of our rootless user namespace is still the user (rootless_userns.h).
  if (::geteuid() == 0 && !InRootlessUserNamespace()) {
    return std::string("/var/lib/comet");
  }
  // getenv: read once at startup from the single main thread.
  const char* xdg = std::getenv("XDG_DATA_HOME");  // NOLINT(concurrency-mt-unsafe)
  if (xdg != nullptr && xdg[0] == '/') {
    return os::JoinPath(xdg, "comet");
  }
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe)
  if (home == nullptr || home[0] != '/') {
    return Err(Error::Invalid("cannot find a data directory: set --dir, XDG_DATA_HOME or HOME"));
  }
  return os::JoinPath(home, ".local/share/comet");
}

std::string ImageStoreDir(const std::string& data_dir) {
  return os::JoinPath(data_dir, "images");
}

std::string DataDirOf(const std::string& store_root) {
  const size_t slash = store_root.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : store_root.substr(0, slash);
}

}  // namespace comet::cli
