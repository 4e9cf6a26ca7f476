// Spare snapshot skeletons: a writable overlay snapshot that went with its pod keeps its
// directory, its rootfs/ mount point and its work/ directory, which the next snapshot takes by
// one rename instead of making them (and its predecessor removing them). On a data directory with
// `discard`, each directory removed costs a synchronous discard; with ext4 without a journal,
// each one made searches past the inodes freed in the last minutes. The upper layer is never
// reused: another mount namespace may still hold the old overlay (a process that outlived the
// pod, or an fd passed out of it), which would go on writing into it. Thread-safe (no shared
// state); between processes the renames decide who takes a spare.
#include <sys/mount.h>
#include <sys/stat.h>
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

namespace comet::image {
namespace {

// What a spare holds: the kind marker, the mount point and overlay's work directory.
const std::set<std::string>& SpareEntries() {
  static const std::set<std::string> kEntries = {"kind", "rootfs", "work"};
  return kEntries;
}

bool IsEmptyDir(const std::string& path) {
  auto names = os::ListDirectory(path);
  return names && names->empty();
}

// Overlay's marker of a volatile mount (work/work/incompat/volatile): a later mount with the
// same work directory is refused while it is there.
std::string IncompatDir(const std::string& dir) {
  return os::JoinPath(dir, "work/work/incompat");
}

// A spare as RecycleSnapshot leaves it: the overlay marker, an empty rootfs/ that is not a mount
// point, work/ without overlay's volatile marker, and nothing else.
bool IsCleanSpare(const std::string& dir) {
  auto kind = SnapshotKindOf(dir);
  auto names = os::ListDirectory(dir);
  auto mounted = internal::IsMountPoint(os::JoinPath(dir, "rootfs"));
  struct stat st {};
  return os::IsOwnDirectory(dir) && kind && *kind == SnapshotKind::kOverlay && names &&
         std::set<std::string>(names->begin(), names->end()) == SpareEntries() && mounted &&
         !*mounted && IsEmptyDir(os::JoinPath(dir, "rootfs")) &&
         os::IsOwnDirectory(os::JoinPath(dir, "work")) &&
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

}  // namespace

namespace internal {

bool TakeSpareSnapshot(const std::string& spare_dir, const std::string& dir) {
  if (!os::IsOwnDirectory(spare_dir)) {
    return false;
  }
  auto names = os::ListDirectory(spare_dir);
  if (!names) {
    return false;
  }
  for (const std::string& name : *names) {
    const std::string spare = os::JoinPath(spare_dir, name);
    // Checked where it lies, so that a bad one never reaches the pod: dropped, or left alone
    // when even that fails.
    if (!IsCleanSpare(spare)) {
      log::Warning("snapshot spare {} is not clean: removing it", spare);
      if (auto removed = RemoveSnapshot(spare); !removed) {
        log::Warning("{}", removed.error().ToString());
      }
      continue;
    }
    if (::rename(spare.c_str(), dir.c_str()) == 0) {
      return true;
    }
    if (errno != ENOENT) {  // ENOENT: another pod took it meanwhile
      return false;
    }
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
  ASSIGN_OR_RETURN(std::vector<std::string> entries, os::ListDirectory(dir));
  const std::set<std::string> writable = {"kind", "rootfs", "upper", "work"};
  if (std::set<std::string>(entries.begin(), entries.end()) != writable) {
    return Err(Error::Invalid(dir + " is not a writable overlay snapshot"));
  }
  const std::string rootfs = os::JoinPath(dir, "rootfs");
  RETURN_IF_ERROR(UnmountNow(rootfs));
  if (!IsEmptyDir(rootfs)) {
    return Err(Error::Invalid(rootfs + " is not an empty directory"));
  }
  RETURN_IF_ERROR(os::RemoveAll(os::JoinPath(dir, "upper")));
  RETURN_IF_ERROR(os::RemoveAll(IncompatDir(dir)));
  RETURN_IF_ERROR(os::OpenSparePool(spare_dir, kMaxSpareSnapshots));
  const std::string target = os::JoinPath(spare_dir, name);
  if (::rename(dir.c_str(), target.c_str()) != 0) {
    return Err(Error::FromErrno("rename", target));
  }
  return Ok();
}

}  // namespace comet::image
