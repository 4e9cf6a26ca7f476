// Snapshots: a kind marker, then an overlay mount or a flattened copy; removal that never
// reaches through a live mount. Thread-safe (no shared state).
#include "image/snapshot.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "image/manifest.h"
#include "image/snapshot_internal.h"
#include "os/file.h"

namespace comet::image {
namespace {

// The marker is a symlink whose target names the kind: its creation is atomic, and a short
// symlink lives in the inode, so a snapshot's removal frees no data block for it (on a
// filesystem mounted with `discard`, each freed block costs a synchronous discard). Snapshots
// of older versions have a regular file holding the same word and a newline.
constexpr char kMarker[] = "kind";
constexpr char kOverlayMarker[] = "overlay";
constexpr char kCopyMarker[] = "copy";

std::string In(const std::string& dir, const char* name) {
  return os::JoinPath(dir, name);
}

Status WriteMarker(const std::string& dir, const char* kind) {
  const std::string marker = In(dir, kMarker);
  if (::unlink(marker.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", marker));
  }
  if (::symlink(kind, marker.c_str()) != 0) {
    return Err(Error::FromErrno("symlink", marker));
  }
  return Ok();
}

Result<std::string> ReadMarker(const std::string& marker) {
  char target[64];
  ssize_t n = ::readlink(marker.c_str(), target, sizeof(target));
  if (n >= 0) {
    return std::string(target, static_cast<size_t>(n));
  }
  if (errno != EINVAL) {
    return Err(Error::FromErrno("readlink", marker));
  }
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(marker, 64));
  if (text.ends_with('\n')) {
    text.pop_back();
  }
  return text;
}

// Errors after which a copy may still work: no overlay in this kernel, no permission to mount
// (rootless outside a user namespace), or layers on a filesystem overlay refuses.
bool OverlayUnavailable(int code) {
  return code == EPERM || code == EINVAL || code == ENODEV || code == EOPNOTSUPP;
}

Status Unmount(const std::string& rootfs) {
  // Mounts may be stacked (a retried create); each round removes the top one.
  for (int round = 0; round < 16; ++round) {
    ASSIGN_OR_RETURN(bool mounted, internal::IsMountPoint(rootfs));
    if (!mounted) {
      return Ok();
    }
    if (::umount2(rootfs.c_str(), UMOUNT_NOFOLLOW) == 0) {
      continue;
    }
    if (errno != EBUSY) {
      return Err(Error::FromErrno("umount", rootfs));
    }
    // Busy (a process still runs in it): detach now, the kernel frees it when unused.
    if (::umount2(rootfs.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
      return Err(Error::FromErrno("umount (detach)", rootfs));
    }
  }
  return Err(Error(EBUSY, fmt::format("{} is still mounted after 16 unmounts", rootfs)));
}

Status CheckNewDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    return Ok();
  }
  if (errno != EEXIST) {
    return Err(Error::FromErrno("mkdir", dir));
  }
  if (::rmdir(dir.c_str()) != 0) {  // only an empty directory goes
    return Err(Error::FromErrno("snapshot directory must be new or empty", dir));
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return Err(Error::FromErrno("mkdir", dir));
  }
  return Ok();
}

Status Mkdir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    return Err(Error::FromErrno("mkdir", path));
  }
  // The umask must not narrow a root filesystem's mode.
  if (::chmod(path.c_str(), mode) != 0) {
    return Err(Error::FromErrno("chmod", path));
  }
  return Ok();
}

// Whether `base` is on the filesystem of the first image layer: overlay numbers inodes and
// reports devices differently when its layers span filesystems (overlayfs(5), "Inode
// properties"), which a stand-in layer must not change. (No layers: nothing to compare with.)
bool SameFilesystem(const std::string& base, const std::vector<std::string>& layers) {
  struct stat base_st {};
  struct stat layer_st {};
  return !layers.empty() && ::stat(base.c_str(), &base_st) == 0 &&
         ::stat(layers.front().c_str(), &layer_st) == 0 && base_st.st_dev == layer_st.st_dev;
}

// `have_work`: work/ is there already (a spare skeleton).
Status MountOverlay(const std::vector<std::string>& layers, const std::string& dir,
                    const SnapshotOptions& options, bool have_work) {
  internal::OverlaySpec spec;
  spec.lowers.assign(layers.rbegin(), layers.rend());
  if (!options.base_layer.empty() && layers.size() < kMaxLayers &&
      SameFilesystem(options.base_layer, layers)) {
    spec.lowers.push_back(options.base_layer);
  }
  spec.target = In(dir, "rootfs");
  spec.userxattr = options.rootless;
  spec.read_only = options.read_only;
  if (!options.read_only) {
    spec.upper = In(dir, "upper");
    spec.work = In(dir, "work");
    spec.volatile_upper = options.ephemeral;
    RETURN_IF_ERROR(Mkdir(spec.upper, 0755));
    if (!have_work) {
      RETURN_IF_ERROR(Mkdir(spec.work, 0700));
    }
  }
  // Overlay needs a lower layer, and two distinct ones when there is no upper one.
  const size_t wanted = options.read_only ? 2 : 1;
  for (const char* empty : {"empty", "empty2"}) {
    if (spec.lowers.size() < wanted) {
      RETURN_IF_ERROR(Mkdir(In(dir, empty), 0755));
      spec.lowers.push_back(In(dir, empty));
    }
  }
  ASSIGN_OR_RETURN(bool mounted, internal::MountOverlayByFds(spec));
  if (mounted) {
    return Ok();
  }
  return internal::MountOverlayByLinks(spec, In(dir, "l"));
}

Status CheckLayers(const std::vector<std::string>& layers) {
  for (const std::string& layer : layers) {
    // Symlinks to layers are made from these paths, and overlay would resolve relative ones
    // against the mounting child's working directory.
    if (layer.empty() || layer[0] != '/') {
      return Err(Error::Invalid(fmt::format("snapshot layer path {:?} is not absolute", layer)));
    }
    if (!os::IsDirectory(layer)) {
      return Err(Error::NotFound(fmt::format("snapshot layer {} is not a directory", layer)));
    }
  }
  return Ok();
}

}  // namespace

std::string SnapshotRootfs(const std::string& dir) {
  return In(dir, "rootfs");
}

Result<SnapshotKind> CreateSnapshot(const std::vector<std::string>& layers, const std::string& dir,
                                    const SnapshotOptions& options) {
  RETURN_IF_ERROR(CheckLayers(layers));
  if (!options.base_layer.empty()) {
    RETURN_IF_ERROR_CTX(CheckLayers({options.base_layer}), "base layer");
  }
  // A spare skeleton has rootfs/, work/ and the overlay marker already.
  const bool spare = !options.force_copy && !options.read_only && !options.spare_dir.empty() &&
                     internal::TakeSpareSnapshot(options.spare_dir, dir);
  if (!spare) {
    RETURN_IF_ERROR(CheckNewDirectory(dir));
  }
  ScopeExit cleanup([&dir] { (void)RemoveSnapshot(dir); });
  const std::string rootfs = In(dir, "rootfs");
  if (!spare) {
    RETURN_IF_ERROR(Mkdir(rootfs, 0755));
  }
  if (!options.force_copy) {
    // The marker goes first: after a crash during the mount, gc still knows to unmount.
    if (!spare) {
      RETURN_IF_ERROR(WriteMarker(dir, kOverlayMarker));
    }
    Status mounted = MountOverlay(layers, dir, options, spare);
    if (mounted) {
      cleanup.Dismiss();
      return SnapshotKind::kOverlay;
    }
    if (!OverlayUnavailable(mounted.error().code())) {
      return Err(std::move(mounted).error().AddContext("mounting snapshot " + dir));
    }
    log::Info("snapshot {}: overlay unavailable ({}), copying {} layers", dir,
              mounted.error().ToString(), layers.size());
    for (const char* name : {"upper", "work", "empty", "empty2", "l"}) {
      RETURN_IF_ERROR(os::RemoveAll(In(dir, name)));
    }
  }
  RETURN_IF_ERROR(WriteMarker(dir, kCopyMarker));
  const std::string prefix = options.rootless ? "user." : "trusted.";
  RETURN_IF_ERROR_CTX(internal::CopyLayers(layers, rootfs, prefix), "copying snapshot " + dir);
  cleanup.Dismiss();
  return SnapshotKind::kCopy;
}

Result<SnapshotKind> SnapshotKindOf(const std::string& dir) {
  const std::string marker = In(dir, kMarker);
  auto text = ReadMarker(marker);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("{} is not a snapshot (no {})", dir, kMarker)));
    }
    return Err(std::move(text).error());
  }
  if (*text == kOverlayMarker) {
    return SnapshotKind::kOverlay;
  }
  if (*text == kCopyMarker) {
    return SnapshotKind::kCopy;
  }
  return Err(Error::Invalid(fmt::format("{}: unknown snapshot kind {:?}", marker, *text)));
}

Status RemoveSnapshot(const std::string& dir) {
  struct stat st = {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    return Err(Error::FromErrno("stat", dir));
  }
  // Always checked, whatever the marker says: a crash may have left any state.
  RETURN_IF_ERROR_CTX(Unmount(In(dir, "rootfs")), "removing snapshot " + dir);
  RETURN_IF_ERROR_CTX(os::RemoveAll(dir), "removing snapshot " + dir);
  return Ok();
}

namespace internal {

Result<bool> IsMountPoint(const std::string& path) {
  struct statx stx = {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) != 0) {
    if (errno == ENOENT) {
      return false;
    }
    return Err(Error::FromErrno("statx", path));
  }
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) {
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  // Before Linux 5.8: a mount of another filesystem (overlay always is one) has another device.
  struct stat self = {};
  struct stat parent = {};
  if (::lstat(path.c_str(), &self) != 0 || ::lstat((path + "/..").c_str(), &parent) != 0) {
    return Err(Error::FromErrno("stat", path));
  }
  return self.st_dev != parent.st_dev;
}

}  // namespace internal
}  // namespace comet::image
