// Group-shared directories (see group_dir.h).
#include "os/group_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::os {
namespace {

Result<UniqueFd> OpenDirNoFollow(const std::string& path) {
  return Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

bool Shared(const struct stat& st) {
  return S_ISDIR(st.st_mode) && (st.st_mode & S_ISGID) != 0 && st.st_gid != ::getegid();
}

}  // namespace

std::optional<gid_t> SharedGroup(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !Shared(st)) {
    return std::nullopt;
  }
  return st.st_gid;
}

Status ShareDirectory(const std::string& path, gid_t gid, mode_t mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirNoFollow(path));
  // chown before chmod: chown may clear the set-id bits.
  if (::fchown(fd.get(), static_cast<uid_t>(-1), gid) != 0) {
    return Err(Error::FromErrno("chown", path));
  }
  if (::fchmod(fd.get(), (mode & 0777) | S_ISGID) != 0) {
    return Err(Error::FromErrno("chmod", path));
  }
  return Ok();
}

Status MakeUnsharedDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", path));
  }
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirNoFollow(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Error::FromErrno("stat", path));
  }
  if (!Shared(st)) {
    return Ok();
  }
  if (::fchown(fd.get(), static_cast<uid_t>(-1), ::getegid()) != 0) {
    return Err(Error::FromErrno("chown", path));
  }
  if (::fchmod(fd.get(), mode & 0777) != 0) {
    return Err(Error::FromErrno("chmod", path));
  }
  return Ok();
}

bool IsOwnDirectory(const struct stat& st) {
  return S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 022) == 0;
}

bool IsOwnDirectory(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && IsOwnDirectory(st);
}

Result<std::vector<std::string>> OpenSparePool(const std::string& path, size_t max) {
  RETURN_IF_ERROR(MakeUnsharedDir(path, 0700));
  if (!IsOwnDirectory(path)) {
    return Err(
        Error(EPERM, path + " must be a directory of this user that no one else may write to"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(path));
  if (names.size() >= max) {
    return Err(Error(ENOSPC, fmt::format("{} holds {} spares already", path, names.size())));
  }
  return names;
}

}  // namespace comet::os
