// Internal to the image store (store*.cc): on-disk paths, locks that survive the removal of their
// lock file, durable renames, tree removal, and reading/writing index.json, images/ and leases/.
// Thread-safe (no shared state); callers hold the store lock where a function says so.
#ifndef COMET_IMAGE_STORE_INTERNAL_H_
#define COMET_IMAGE_STORE_INTERNAL_H_

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "os/unique_fd.h"

namespace comet::image::store_internal {

inline constexpr std::string_view kLayoutVersion = "1.0.0";
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr int kMetadataVersion = 1;

// ---- paths (all under the store root)
std::string LockPath(const std::string& root);
std::string IndexPath(const std::string& root);
std::string IngestDir(const std::string& root);
std::string ImagesDir(const std::string& root);
std::string LeasesDir(const std::string& root);
std::string LayersTmpDir(const std::string& root);
std::string MetadataPath(const std::string& root, const Digest& manifest);

// ---- sharing with the api-service's group (os/group_dir.h): in a store whose root is shared,
// what the api-service reads (the root, blobs/, images/ and its metadata files) is group-readable
// and the rest (ingest/, layers/, leases/) is made unshared; elsewhere everything is private.
// 0750 or 0700.
mode_t ReadableDirMode(const std::string& root);
// 0640 or 0600.
mode_t ReadableFileMode(const std::string& root);

// ---- layer trees: published without fsyncing their files. `<tree>.unsynced` holds the boot id
// (/proc/sys/kernel/random/boot_id) of the boot that wrote the tree; written durably before the
// tree's rename. While the same boot runs, the page cache makes the tree complete; in a later
// boot a remaining mark means the data may never have reached the disk.
std::string CurrentBootId();
[[nodiscard]] Status MarkLayerUnsynced(const std::string& tree);
// True when `tree` carries a mark from another boot.
bool LayerTreeSuspect(const std::string& tree);
// Renames `tree` out of the way (layers/tmp/gc-*), removes it and its mark.
[[nodiscard]] Status DiscardLayerTree(const std::string& root, const std::string& tree);
// gc: one syncfs for the store's filesystem, then the marks of this boot are removed; trees
// with marks of another boot are discarded. Callers hold the trees' locks or the store lock.
void SettleLayerMarks(const std::string& root, bool dry_run);

// ---- small OS helpers
// `bytes` random bytes (getrandom) as lowercase hex.
std::string RandomHex(size_t bytes);
[[nodiscard]] Status FsyncDir(const std::string& dir);
// An exclusive flock on `path` (created when missing). The lock is re-taken when the file was
// unlinked or replaced while we waited, so a holder may unlink its lock file safely. `wait`
// false: fails with EWOULDBLOCK when held.
[[nodiscard]] Result<os::UniqueFd> LockFile(const std::string& path, bool wait);
// rm -rf for layer trees: makes directories u+rwx and clears immutable/append-only flags on the
// way, never follows symlinks, tolerates entries vanishing. Returns the bytes of regular files
// removed (or, with `remove` false, that would be).
[[nodiscard]] Result<uint64_t> RemoveTree(const std::string& path, bool remove = true);
// Seconds since the last modification of `path` (0 when it cannot be stat'ed).
int64_t AgeSeconds(const std::string& path);
// The store-wide lock (lock file at the root).
[[nodiscard]] Result<os::UniqueFd> LockStore(const std::string& root, bool shared = false);

// ---- images: index.json names them, images/<hex>.json holds the rest. Callers hold the lock.
// Images listed in index.json whose metadata exists, with their names, in index order.
// `orphans` (optional) receives index.json digests that have no metadata.
[[nodiscard]] Result<std::vector<ImageRecord>> LoadImages(const std::string& root,
                                                          std::vector<Digest>* orphans = nullptr);
[[nodiscard]] Status WriteMetadata(const std::string& root, const ImageRecord& image);
[[nodiscard]] Result<ImageRecord> ReadMetadata(const std::string& root, const Digest& manifest);
// Rewrites index.json: one descriptor per (image, name), one for each nameless image.
[[nodiscard]] Status WriteIndex(const std::string& root, const std::vector<ImageRecord>& images);
// Index of the image `what` names (see Store::FindImage).
[[nodiscard]] Result<size_t> FindIn(const std::vector<ImageRecord>& images, std::string_view what,
                                    const ReferenceOptions& options);

// ---- leases
struct LeaseInfo {
  std::string name;
  bool temporary = false;
  std::vector<Digest> digests;
};
// Lease names: [A-Za-z0-9_.-]+, no leading '.', not "tmp-..." (temporary leases).
[[nodiscard]] Status ValidateLeaseName(std::string_view name);
// Live leases. Temporary lease files whose flock is free are skipped, and removed when
// `remove_dead` (the caller holds the store lock).
[[nodiscard]] Result<std::vector<LeaseInfo>> ReadLeases(const std::string& root, bool remove_dead);
// The lease that protects `image`, if any.
const LeaseInfo* LeaseHolding(const std::vector<LeaseInfo>& leases, const ImageRecord& image);

// ---- sweeping
struct SweepResult {
  size_t blobs = 0;
  size_t layers = 0;
  uint64_t freed_bytes = 0;
  // Layer trees moved to layers/tmp/gc-* under the lock, removed after it is released (or,
  // for a dry run, the trees that would be removed).
  std::vector<std::string> doomed_trees;
};
// Removes blobs and layer trees that no image in `images` and no lease references. Caller
// holds the store lock.
[[nodiscard]] Result<SweepResult> SweepUnreferenced(const std::string& root,
                                                    const std::vector<ImageRecord>& images,
                                                    const std::vector<LeaseInfo>& leases,
                                                    bool dry_run);
// Removes (or sizes, for a dry run) the doomed trees; adds their bytes to freed_bytes.
void RemoveDoomedTrees(SweepResult& sweep, bool dry_run);

}  // namespace comet::image::store_internal

#endif  // COMET_IMAGE_STORE_INTERNAL_H_
