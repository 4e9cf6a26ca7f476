// Pieces of snapshot.cc exposed for its tests: the two ways of mounting overlay with many lower
// layers, and the copy fallback. Thread-safe (no shared state).
#ifndef COMET_IMAGE_SNAPSHOT_INTERNAL_H_
#define COMET_IMAGE_SNAPSHOT_INTERNAL_H_

#include <string>
#include <vector>

#include "base/result.h"

namespace comet::image::internal {

struct OverlaySpec {
  std::vector<std::string> lowers;  // top first; absolute paths
  std::string upper;                // empty: no upper layer (read-only)
  std::string work;
  std::string target;
  bool userxattr = false;
  bool read_only = false;
  bool volatile_upper = false;  // overlay's "volatile": no syncs (ignored on kernels without it)
};

// The new mount API (fsopen/fsconfig/fsmount/move_mount) with one "lowerdir+" per layer given
// as an O_PATH fd: no option-string limit, no path resolution left for later. Returns false,
// having mounted nothing, when the kernel lacks it (fd-valued overlay options: Linux 6.13).
[[nodiscard]] Result<bool> MountOverlayByFds(const OverlaySpec& spec);

// mount(2), whose options are limited to one page: each layer gets a short symlink in
// `link_dir` (created; removed afterwards; overlay resolves lowerdir paths at mount time) and a
// forked child chdir()s to the parent of link_dir and target to mount with short relative
// names, leaving the caller's working directory alone. `link_dir` and `target` must share
// their parent directory.
[[nodiscard]] Status MountOverlayByLinks(const OverlaySpec& spec, const std::string& link_dir);

// Flattens `layers` (overlay format, lowest first) onto the existing directory `dest`,
// applying whiteouts (0/0 character devices) and opaque directories (<xattr_prefix>
// overlay.opaque="y"). Never follows a symlink from a layer or from dest.
[[nodiscard]] Status CopyLayers(const std::vector<std::string>& layers, const std::string& dest,
                                const std::string& xattr_prefix);

// Whether `path` is a mount point (false when missing).
[[nodiscard]] Result<bool> IsMountPoint(const std::string& path);
// Moves a clean spare skeleton (RecycleSnapshot) from `spare_dir` to `dir` (which must not exist
// or be an empty directory): true when one was taken. Never fails: a missing or empty pool, or
// one that cannot be used, is false (the caller makes the directories instead); a spare that is
// not clean is removed.
[[nodiscard]] bool TakeSpareSnapshot(const std::string& spare_dir, const std::string& dir);

}  // namespace comet::image::internal

#endif  // COMET_IMAGE_SNAPSHOT_INTERNAL_H_
