// The /etc stub layer (see etc_stub_layer.h).
#include "supervisor/etc_stub_layer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "os/file.h"
#include "os/group_dir.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace comet::supervisor {
namespace {

constexpr const char* kNewPrefix = ".new-";

// A directory of this user that nobody else may write to (`path` itself, not through a symlink).
Status CheckOwnDirectory(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return Err(Error::FromErrno("stat", path));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    return Err(Error(EPERM, path + " must be a directory of this user that no one else may "
                                   "write to"));
  }
  return Ok();
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    return Err(Error::FromErrno("mkdir", path));
  }
  if (::chmod(path.c_str(), mode) != 0) {  // whatever the umask took away
    return Err(Error::FromErrno("chmod", path));
  }
  return Ok();
}

// Fills `root` (a new, empty directory) with etc/ (0755) and the empty `files` (0644).
Status FillLayer(const std::string& root, const std::vector<const char*>& files) {
  if (::chmod(root.c_str(), 0755) != 0) {
    return Err(Error::FromErrno("chmod", root));
  }
  const std::string etc = os::JoinPath(root, "etc");
  RETURN_IF_ERROR(MakeDir(etc, 0755));
  for (const char* name : files) {
    const std::string path = os::JoinPath(etc, name);
    os::UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) {
      return Err(Error::FromErrno("create", path));
    }
    if (::fchmod(fd.get(), 0644) != 0) {
      return Err(Error::FromErrno("chmod", path));
    }
  }
  return Ok();
}

// Layers a crash left half-made (".new-*", older than a minute: younger ones may be another
// process's, being made): removed, best effort.
void RemoveStaleLayers(const std::string& stubs_dir) {
  auto names = os::ListDirectory(stubs_dir);
  if (!names) {
    return;
  }
  const time_t cutoff = ::time(nullptr) - 60;
  for (const std::string& name : *names) {
    const std::string path = os::JoinPath(stubs_dir, name);
    struct stat st {};
    if (name.starts_with(kNewPrefix) && ::lstat(path.c_str(), &st) == 0 && st.st_mtime < cutoff) {
      (void)os::RemoveAll(path);
    }
  }
}

}  // namespace

Result<std::string> EnsureEtcStubLayer(const std::string& stubs_dir, bool resolv_conf) {
  std::vector<const char*> files = {"hosts", "hostname"};
  if (resolv_conf) {
    files.push_back("resolv.conf");
  }
  // One layer per set of files, named after it: an app without resolv.conf must not get an
  // empty one.
  const std::string layer = os::JoinPath(
      stubs_dir, resolv_conf ? "etc-hosts-hostname-resolv.conf" : "etc-hosts-hostname");
  // Out of a group-shared data directory's share: a stub /etc must not show the group.
  RETURN_IF_ERROR(os::MakeUnsharedDir(stubs_dir, 0700));
  RETURN_IF_ERROR(CheckOwnDirectory(stubs_dir));
  struct stat st {};
  if (::lstat(layer.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Err(Error::FromErrno("stat", layer));
    }
    // Made aside and renamed into place, so that no process ever stacks a half-made layer.
    RemoveStaleLayers(stubs_dir);
    ASSIGN_OR_RETURN(os::TempDir temp, os::TempDir::Create(kNewPrefix, stubs_dir));
    RETURN_IF_ERROR(FillLayer(temp.path(), files));
    if (::rename(temp.path().c_str(), layer.c_str()) == 0) {
      temp.Release();
    } else if (errno != EEXIST && errno != ENOTEMPTY) {  // else another pod made it first
      return Err(Error::FromErrno("rename", layer));
    }
  }
  RETURN_IF_ERROR(CheckOwnDirectory(layer));
  return layer;
}

}  // namespace comet::supervisor
