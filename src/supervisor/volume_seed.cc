// SeedVolume; see volume_seed.h.
#include "supervisor/volume_seed.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::supervisor {
namespace {

struct SeedCopy {
  uint32_t uid = 0;
  uint32_t gid = 0;
  int entries = 0;
};

Status CopyFileAt(int from_dir, int to_dir, const char* name, mode_t mode, SeedCopy& copy) {
  const int in = ::openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) {
    return Err(Error::FromErrno("open", name));
  }
  os::UniqueFd source(in);
  // A file of that name is replaced (unlinked first: never written through a link).
  if (::unlinkat(to_dir, name, 0) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", name));
  }
  const int out =
      ::openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) {
    return Err(Error::FromErrno("create", name));
  }
  os::UniqueFd target(out);
  ASSIGN_OR_RETURN(std::string data, os::ReadFd(source.get(), 64 << 20));
  RETURN_IF_ERROR(os::WriteAll(target.get(), data));
  if (::fchown(target.get(), copy.uid, copy.gid) != 0 || ::fchmod(target.get(), mode) != 0) {
    return Err(Error::FromErrno("chown/chmod", name));
  }
  return Ok();
}

Status CopyTree(int from_dir, int to_dir, int depth, SeedCopy& copy);

Status CopyEntry(int from_dir, int to_dir, const char* name, int depth, SeedCopy& copy) {
  if (++copy.entries > kMaxSeedEntries) {
    return Err(Error::Invalid(fmt::format("more than {} files", kMaxSeedEntries)));
  }
  struct stat st {};
  if (::fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(Error::FromErrno("stat", name));
  }
  const mode_t mode = st.st_mode & 07777;
  if (S_ISREG(st.st_mode)) {
    return CopyFileAt(from_dir, to_dir, name, mode, copy);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Ok();  // stage0 writes only files and directories
  }
  if (::mkdirat(to_dir, name, 0700) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", name));
  }
  const int sub_from = ::openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub_from < 0) {
    return Err(Error::FromErrno("open", name));
  }
  os::UniqueFd from(sub_from);
  const int sub_to = ::openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub_to < 0) {
    return Err(Error::FromErrno("open", name));
  }
  os::UniqueFd to(sub_to);
  // 0755 whatever stage0's mode (0700): an app running as another user must reach the files in
  // a subdirectory (items with a path "conf/app.yaml"), as the kubelet's volumes allow.
  if (::fchown(to.get(), copy.uid, copy.gid) != 0 || ::fchmod(to.get(), 0755) != 0) {
    return Err(Error::FromErrno("chown/chmod", name));
  }
  RETURN_IF_ERROR_CTX(CopyTree(from.get(), to.get(), depth + 1, copy), name);
  return Ok();
}

Status CopyTree(int from_dir, int to_dir, int depth, SeedCopy& copy) {
  if (depth > kMaxSeedDepth) {
    return Err(Error::Invalid(fmt::format("deeper than {} levels", kMaxSeedDepth)));
  }
  const int listing = ::fcntl(from_dir, F_DUPFD_CLOEXEC, 0);
  if (listing < 0) {
    return Err(Error::FromErrno("dup"));
  }
  DIR* dir = ::fdopendir(listing);
  if (dir == nullptr) {
    ::close(listing);
    return Err(Error::FromErrno("opendir"));
  }
  ::rewinddir(dir);
  Status status = Ok();
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    status = CopyEntry(from_dir, to_dir, entry->d_name, depth, copy);
    if (!status) {
      break;
    }
  }
  ::closedir(dir);
  return status;
}

}  // namespace

Status SeedVolume(const std::string& seed_dir, const std::string& volume_dir, uint32_t uid,
                  uint32_t gid) {
  ASSIGN_OR_RETURN(os::UniqueFd from,
                   os::Open(seed_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  ASSIGN_OR_RETURN(os::UniqueFd to,
                   os::Open(volume_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  SeedCopy copy{uid, gid, 0};
  RETURN_IF_ERROR_CTX(CopyTree(from.get(), to.get(), 0, copy),
                      fmt::format("seeding {} from {}", volume_dir, seed_dir));
  return Ok();
}

}  // namespace comet::supervisor
