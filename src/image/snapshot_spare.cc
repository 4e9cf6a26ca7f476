// Spare snapshot skeletons: a writable overlay snapshot that went with its pod is kept as empty
// rootfs/, upper/ and work/ directories, which the next snapshot takes by one rename instead of
// making them (and its predecessor removing them). On a data directory with `discard`, each
// directory removed costs a synchronous discard; with ext4 without a journal, each one made
// searches past the inodes freed in the last minutes. Thread-safe (no shared state); between
// processes the renames decide who takes a spare.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "image/snapshot.h"
#include "image/snapshot_internal.h"
#include "os/file.h"
#include "os/group_dir.h"
#include "os/unique_fd.h"

namespace comet::image {
namespace {

// What a spare holds: the kind marker and the three directories of a writable overlay.
const std::set<std::string>& SpareEntries() {
  static const std::set<std::string> kEntries = {"kind", "rootfs", "upper", "work"};
  return kEntries;
}

// The names in directory `path` (".", ".." left out); an error when it cannot be listed.
Result<std::vector<std::string>> Names(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Err(Error::FromErrno("opendir", path));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  ::closedir(dir);
  return names;
}

bool IsEmptyDir(const std::string& path) {
  auto names = Names(path);
  return names && names->empty();
}

// Overlay's marker of a volatile mount (work/work/incompat/volatile): a later mount of the same
// upper and work directories is refused while it is there.
std::string IncompatDir(const std::string& dir) {
  return os::JoinPath(dir, "work/work/incompat");
}

// A spare as RecycleSnapshot leaves it: the overlay marker, empty rootfs/ (not a mount point)
// and upper/, work/ without overlay's volatile marker, and nothing else.
bool IsCleanSpare(const std::string& dir) {
  auto kind = SnapshotKindOf(dir);
  auto names = Names(dir);
  auto mounted = internal::IsMountPoint(os::JoinPath(dir, "rootfs"));
  struct stat st {};
  return kind && *kind == SnapshotKind::kOverlay && names &&
         std::set<std::string>(names->begin(), names->end()) == SpareEntries() && mounted &&
         !*mounted && IsEmptyDir(os::JoinPath(dir, "rootfs")) &&
         IsEmptyDir(os::JoinPath(dir, "upper")) && os::IsDirectory(os::JoinPath(dir, "work")) &&
         ::lstat(IncompatDir(dir).c_str(), &st) != 0 && errno == ENOENT;
}

// Unmounts dir/rootfs, however many times it is mounted; EBUSY while a process uses it (a spare
// must not be detached lazily: its directories would still be in use).
Status UnmountNow(const std::string& rootfs) {
  for (int round = 0; round < 16; ++round) {
    ASSIGN_OR_RETURN(bool mounted, internal::IsMountPoint(rootfs));
    if (!mounted) {
      return Ok();
    }
    if (::umount2(rootfs.c_str(), UMOUNT_NOFOLLOW) != 0) {
      return Err(Error::FromErrno("umount", rootfs));
    }
  }
  return Err(Error(EBUSY, fmt::format("{} is still mounted after 16 unmounts", rootfs)));
}

// Gives the upper directory back the attributes of a new one (CreateSnapshot makes it 0755,
// this user's, without extended attributes): an app's chmod, chown or setxattr on its "/" lands
// on the upper directory itself, and must not reach the next pod.
Status ResetUpperRoot(const std::string& upper) {
  char names[16384];
  const ssize_t size = ::llistxattr(upper.c_str(), names, sizeof(names));
  if (size < 0 && errno != ENOTSUP) {
    return Err(Error::FromErrno("listxattr", upper));
  }
  for (ssize_t at = 0; at < size;) {
    const std::string name(names + at);
    at += static_cast<ssize_t>(name.size()) + 1;
    if (::lremovexattr(upper.c_str(), name.c_str()) != 0 && errno != ENODATA) {
      return Err(Error::FromErrno("removexattr " + name, upper));
    }
  }
  if (::lchown(upper.c_str(), ::geteuid(), ::getegid()) != 0) {
    return Err(Error::FromErrno("chown", upper));
  }
  if (::chmod(upper.c_str(), 0755) != 0) {
    return Err(Error::FromErrno("chmod", upper));
  }
  return Ok();
}

}  // namespace

namespace internal {

bool TakeSpareSnapshot(const std::string& spare_dir, const std::string& dir) {
  auto names = Names(spare_dir);
  if (!names) {
    return false;
  }
  for (const std::string& name : *names) {
    const std::string spare = os::JoinPath(spare_dir, name);
    if (::rename(spare.c_str(), dir.c_str()) != 0) {
      if (errno == ENOENT) {
        continue;  // another pod took it
      }
      return false;
    }
    if (IsCleanSpare(dir)) {
      return true;
    }
    log::Warning("snapshot spare {} is not clean: removed", spare);
    if (auto removed = RemoveSnapshot(dir); !removed) {
      log::Warning("{}", removed.error().ToString());
    }
    return false;
  }
  return false;
}

}  // namespace internal

Status RecycleSnapshot(const std::string& dir, const std::string& spare_dir,
                       const std::string& name) {
  ASSIGN_OR_RETURN(SnapshotKind kind, SnapshotKindOf(dir));
  if (kind != SnapshotKind::kOverlay) {
    return Err(Error::Invalid(dir + " is not an overlay snapshot"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> entries, Names(dir));
  if (std::set<std::string>(entries.begin(), entries.end()) != SpareEntries()) {
    return Err(Error::Invalid(dir + " is not a writable overlay snapshot"));
  }
  const std::string rootfs = os::JoinPath(dir, "rootfs");
  RETURN_IF_ERROR(UnmountNow(rootfs));
  if (!IsEmptyDir(rootfs)) {
    return Err(Error::Invalid(rootfs + " is not an empty directory"));
  }
  const std::string upper = os::JoinPath(dir, "upper");
  ASSIGN_OR_RETURN(std::vector<std::string> written, Names(upper));
  for (const std::string& entry : written) {
    RETURN_IF_ERROR(os::RemoveAll(os::JoinPath(upper, entry)));
  }
  RETURN_IF_ERROR(ResetUpperRoot(upper));
  RETURN_IF_ERROR(os::RemoveAll(IncompatDir(dir)));
  RETURN_IF_ERROR(os::MakeUnsharedDir(spare_dir, 0700));
  ASSIGN_OR_RETURN(std::vector<std::string> spares, Names(spare_dir));
  if (spares.size() >= kMaxSpareSnapshots) {
    return Err(Error(ENOSPC, fmt::format("{} holds {} spares already", spare_dir, spares.size())));
  }
  const std::string target = os::JoinPath(spare_dir, name);
  if (::rename(dir.c_str(), target.c_str()) != 0) {
    return Err(Error::FromErrno("rename", target));
  }
  return Ok();
}

}  // namespace comet::image
