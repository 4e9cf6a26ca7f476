// Per-app root filesystems made from the store's unpacked layer trees (overlay format): an
// overlayfs mount when the kernel lets us, else a flattened copy. Thread-safe (no shared state;
// mounts are made in a forked child when they need a private working directory).
#ifndef COMET_IMAGE_SNAPSHOT_H_
#define COMET_IMAGE_SNAPSHOT_H_

#include <string>
#include <vector>

#include "base/result.h"

namespace comet::image {

enum class SnapshotKind { kOverlay, kCopy };

struct SnapshotOptions {
  // The caller is inside a user namespace (rootless): overlay is mounted with "userxattr", so
  // whiteouts and opaque directories use user.overlay.* xattrs (layers unpacked with "user.").
  bool rootless = false;
  // Skip overlay and flatten the layers into rootfs/.
  bool force_copy = false;
  // Overlay: no upper layer and a read-only mount. A copy is always writable (nothing else
  // shares it).
  bool read_only = false;
  // The snapshot goes with its pod (`run --rm`): overlay gets "volatile" (Linux 5.10), so neither
  // writes nor the unmount sync the upper layer to disk. After a host crash overlay refuses such
  // an upper layer, which nobody will mount again anyway.
  bool ephemeral = false;
  // Overlay only: a directory (absolute path) stacked below the image's layers, e.g. empty
  // stand-ins for the files the runtime mounts over, so that their mount points need no copy-up
  // into the upper layer. Being lowest, it only adds names the image lacks (and a whiteout or an
  // opaque directory in the image still hides them). Left out of a copy, and when the image already
  // has as many layers as overlay stacks (kMaxLayers).
  std::string base_layer;
  // Overlay, not read-only: a directory of spare snapshot skeletons (RecycleSnapshot) to take the
  // new snapshot's directories from, when it has one, instead of making them: fewer directories
  // made and removed on disk at every start. Empty: none.
  std::string spare_dir;
};

// Makes a snapshot in `dir` (created; an existing empty directory is fine): dir/rootfs is the
// root filesystem, merged from `layers` (unpacked layer trees in overlay format, lowest first).
// Overlay: dir/upper and dir/work hold the writes; dir/empty (and dir/empty2: overlay needs two
// lowers without an upper) stand in for missing layers. When
// overlay cannot be mounted (EPERM, EINVAL, ENODEV, EOPNOTSUPP) or options.force_copy is set,
// the layers are copied onto dir/rootfs with their whiteouts applied (opaque directories are
// read with the prefix options.rootless implies: an unprivileged process cannot see trusted.*
// xattrs, so rootless callers need layers unpacked with "user."). A marker written before
// the mount records the kind (SnapshotKindOf). The mount is made in the caller's mount
// namespace. On failure nothing is left at `dir`.
[[nodiscard]] Result<SnapshotKind> CreateSnapshot(const std::vector<std::string>& layers,
                                                  const std::string& dir,
                                                  const SnapshotOptions& options);

// The root filesystem of the snapshot in `dir`: dir/rootfs.
std::string SnapshotRootfs(const std::string& dir);

// The kind recorded in `dir`, even for a half-made snapshot (a crash between the marker and the
// mount): gc uses it to know whether an unmount may be needed. NotFound when there is none.
[[nodiscard]] Result<SnapshotKind> SnapshotKindOf(const std::string& dir);

// Unmounts dir/rootfs when it is a mount point (lazily, MNT_DETACH, when busy) and removes
// `dir`. Idempotent; a missing `dir` is fine. Refuses to remove anything while dir/rootfs is
// still mounted (removing through the mount would reach the layers). A rootless overlay
// snapshot's upper/ holds files owned by subordinate ids: remove it inside the user namespace
// (RunInUserNamespace), where the mount also lives.
[[nodiscard]] Status RemoveSnapshot(const std::string& dir);
// The most spare skeletons RecycleSnapshot keeps in one directory.
inline constexpr size_t kMaxSpareSnapshots = 16;
// Turns the writable overlay snapshot in `dir`, whose containers are gone, into a spare skeleton
// for a later CreateSnapshot (SnapshotOptions::spare_dir): unmounts dir/rootfs (refused while
// busy), removes upper/ with the writes (a new snapshot always gets a new upper layer: the old
// overlay may live on in another mount namespace), clears overlay's marker of a volatile mount
// from work/, and renames `dir` to spare_dir/`name` (spare_dir is made 0700 and kept out of a
// group-shared tree, as os::MakeUnsharedDir does). Refused, leaving what is left for
// RemoveSnapshot, for any other kind of snapshot, anything unexpected in it, or a full pool
// (kMaxSpareSnapshots). A spare is its directory, an empty rootfs/, work/ and the kind marker:
// removing it (or all of spare_dir) is always safe.
[[nodiscard]] Status RecycleSnapshot(const std::string& dir, const std::string& spare_dir,
                                     const std::string& name);

}  // namespace comet::image

#endif  // COMET_IMAGE_SNAPSHOT_H_
