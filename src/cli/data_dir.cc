// comet's data directory: where it is, and sharing it with the api-service's group.
#include "cli/data_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "cli/rootless_userns.h"
#include "os/file.h"
#include "os/group_dir.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"
#include "pod/pod_store.h"
#include "pod/volatile_dir.h"

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

Status PrepareDataDir(const std::string& data_dir) {
  if (!os::Exists(data_dir) && ::geteuid() == 0 && !InRootlessUserNamespace()) {
    ASSIGN_OR_RETURN(std::optional<gid_t> group, os::LookupGroup(kApiGroup));
    if (group) {
      RETURN_IF_ERROR(os::MkdirAll(DataDirOf(data_dir), 0755));
      if (::mkdir(data_dir.c_str(), 0750) == 0) {
        RETURN_IF_ERROR_CTX(os::ShareDirectory(data_dir, *group, 0750),
                            fmt::format("sharing the data directory with group {}", kApiGroup));
      } else if (errno != EEXIST) {  // EEXIST: another command made it meanwhile
        return Err(Error::FromErrno("mkdir", data_dir));
      }
    }
  }
  if (os::SharedGroup(data_dir)) {
    // Probed with 077, never 0: another thread creating a file meanwhile gets a strict mask.
    const mode_t mask = ::umask(077);
    ::umask(mask & ~static_cast<mode_t>(0050));
  }
  return Ok();
}

namespace {

// Shares what is below a directory with one group (ShareDataDir), through fds opened without
// following symlinks, so that nothing planted below leads the walk elsewhere.
class TreeSharer {
 public:
  explicit TreeSharer(gid_t gid) : gid_(gid) {}

  // The directory `name` in `parent` shared (2750-like), and its fd; invalid when it is missing
  // or not a directory.
  Result<os::UniqueFd> ShareDir(int parent, const std::string& name, const std::string& shown) {
    os::UniqueFd fd(
        ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
        return os::UniqueFd();
      }
      return Err(Error::FromErrno("open", shown));
    }
    RETURN_IF_ERROR(Own(fd.get(), S_ISGID | 0050, shown));
    return fd;
  }

  // The regular file `name` in `parent` made group-readable; nothing when it is missing or not a
  // regular file.
  Status ShareFile(int parent, const std::string& name, const std::string& shown) {
    os::UniqueFd fd(
        ::openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
      return errno == ENOENT || errno == ELOOP || errno == ENXIO
                 ? Ok()
                 : Status(Err(Error::FromErrno("open", shown)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Err(Error::FromErrno("stat", shown));
    }
    return S_ISREG(st.st_mode) ? Own(fd.get(), 0040, shown) : Ok();
  }

  // `name` in `parent` and everything below it but the entries of its own named `skip`.
  Status ShareTree(int parent, const std::string& name, const std::string& shown,
                   const std::vector<std::string>& skip = {}) {
    ASSIGN_OR_RETURN(os::UniqueFd dir, ShareDir(parent, name, shown));
    if (!dir.valid()) {
      return ShareFile(parent, name, shown);
    }
    ASSIGN_OR_RETURN(std::vector<std::string> entries, Entries(dir.get(), shown));
    for (const std::string& entry : entries) {
      if (std::find(skip.begin(), skip.end(), entry) == skip.end()) {
        RETURN_IF_ERROR(ShareTree(dir.get(), entry, os::JoinPath(shown, entry)));
      }
    }
    return Ok();
  }

  static Result<std::vector<std::string>> Entries(int dir, const std::string& shown) {
    const int copy = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* stream = copy < 0 ? nullptr : ::fdopendir(copy);
    if (stream == nullptr) {
      Error error = Error::FromErrno("opendir", shown);
      if (copy >= 0) {
        ::close(copy);
      }
      return Err(std::move(error));
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(stream)) {  // NOLINT(concurrency-mt-unsafe)
      const std::string name = entry->d_name;
      if (name != "." && name != "..") {
        names.push_back(name);
      }
    }
    ::closedir(stream);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  // Group gid_, the `add` bits, no group write.
  Status Own(int fd, mode_t add, const std::string& shown) const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      return Err(Error::FromErrno("stat", shown));
    }
    if (::fchown(fd, static_cast<uid_t>(-1), gid_) != 0) {
      return Err(Error::FromErrno("chown", shown));
    }
    const mode_t mode = ((st.st_mode & 07777 & ~static_cast<mode_t>(S_ISUID | 0020)) | add);
    if (::fchmod(fd, mode) != 0) {
      return Err(Error::FromErrno("chmod", shown));
    }
    return Ok();
  }

  gid_t gid_;
};

Status SharePods(TreeSharer& sharer, int data, const std::string& data_dir) {
  const std::string pods = os::JoinPath(data_dir, "pods");
  ASSIGN_OR_RETURN(os::UniqueFd pods_fd, sharer.ShareDir(data, "pods", pods));
  if (!pods_fd.valid()) {
    return Ok();
  }
  for (const char* phase : pod::kPhaseDirs) {
    const std::string phase_path = os::JoinPath(pods, phase);
    ASSIGN_OR_RETURN(os::UniqueFd phase_fd, sharer.ShareDir(pods_fd.get(), phase, phase_path));
    if (!phase_fd.valid()) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<std::string> uuids,
                     TreeSharer::Entries(phase_fd.get(), phase_path));
    for (const std::string& uuid : uuids) {
      if (!pod::IsValidUuid(uuid)) {
        continue;
      }
      const std::string pod_dir = os::JoinPath(phase_path, uuid);
      // The apps' files stay theirs: made unshared, as a pod made in a shared directory has them.
      auto share = [&]() -> Status {
        RETURN_IF_ERROR(sharer.ShareTree(phase_fd.get(), uuid, pod_dir, {"apps", "volumes"}));
        RETURN_IF_ERROR(os::MakeUnsharedDir(os::JoinPath(pod_dir, "apps"), 0750));
        RETURN_IF_ERROR(os::MakeUnsharedDir(os::JoinPath(pod_dir, "volumes"), 0700));
        return pod::ShareVolatileDir(pod_dir, uuid);
      };
      if (Status shared = share(); !shared && shared.error().code() != ENOENT) {
        return shared;  // ENOENT: the pod moved to another phase (or went) meanwhile
      }
    }
  }
  return Ok();
}

Status ShareImages(TreeSharer& sharer, int data, const std::string& data_dir) {
  const std::string root = ImageStoreDir(data_dir);
  ASSIGN_OR_RETURN(os::UniqueFd store, sharer.ShareDir(data, "images", root));
  if (!store.valid()) {
    return Ok();
  }
  for (const char* file : {"index.json", "oci-layout"}) {
    RETURN_IF_ERROR(sharer.ShareFile(store.get(), file, os::JoinPath(root, file)));
  }
  for (const char* dir : {"blobs", "images"}) {
    RETURN_IF_ERROR(sharer.ShareTree(store.get(), dir, os::JoinPath(root, dir)));
  }
  return Ok();
}

}  // namespace

Status ShareDataDir(const std::string& data_dir, const std::string& group) {
  if (::geteuid() != 0 || InRootlessUserNamespace()) {
    return Err(Error(EPERM, "only root can share its data directory with a group"));
  }
  ASSIGN_OR_RETURN(std::optional<gid_t> gid, os::LookupGroup(group));
  if (!gid) {
    return Err(Error::Invalid(fmt::format(
        "group {:?} does not exist: create it with groupadd --system {}", group, group)));
  }
  RETURN_IF_ERROR(os::MkdirAll(DataDirOf(data_dir), 0755));
  if (::mkdir(data_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", data_dir));
  }
  TreeSharer sharer(*gid);
  ASSIGN_OR_RETURN(os::UniqueFd data, sharer.ShareDir(AT_FDCWD, data_dir, data_dir));
  if (!data.valid()) {
    return Err(Error(ENOTDIR, fmt::format("{}: not a directory", data_dir)));
  }
  RETURN_IF_ERROR(SharePods(sharer, data.get(), data_dir));
  RETURN_IF_ERROR(sharer.ShareTree(data.get(), "events", os::JoinPath(data_dir, "events")));
  return ShareImages(sharer, data.get(), data_dir);
}

Status CheckDataDirReadable(const std::string& data_dir) {
  std::vector<std::string> dirs = {data_dir, os::JoinPath(data_dir, "pods")};
  for (const char* phase : pod::kPhaseDirs) {
    dirs.push_back(os::JoinPath(os::JoinPath(data_dir, "pods"), phase));
  }
  for (const char* dir : {"images", "images/images", "images/blobs", "events"}) {
    dirs.push_back(os::JoinPath(data_dir, dir));
  }
  for (const std::string& dir : dirs) {
    os::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid() && errno != ENOENT) {
      const int code = errno;
      struct stat st {};
      const std::string group =
          ::stat(dir.c_str(), &st) == 0 ? fmt::format(", gid {}", st.st_gid) : "";
      return Err(Error(code,
                       fmt::format("cannot read {} (run as a member of the data directory's "
                                   "group{}, see docs/api-service.md)",
                                   dir, group),
                       /*os_cause=*/true));
    }
  }
  return Ok();
}

std::string ImageStoreDir(const std::string& data_dir) {
  return os::JoinPath(data_dir, "images");
}

std::string DataDirOf(const std::string& store_root) {
  const size_t slash = store_root.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : store_root.substr(0, slash);
}

}  // namespace comet::cli
