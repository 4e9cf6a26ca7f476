// The image store: an OCI image-layout blob store (blobs/sha256/<hex>, index.json naming the
// images), comet's per-image metadata, unpacked layer trees shared by all images, leases that
// protect what pods and pulls use, and mark-and-sweep garbage collection.
// Thread- and process-safe: index and metadata updates hold the store's flock; each blob and
// layer being written holds its own flock, so two pulls of one image share the work.
#ifndef COMET_IMAGE_STORE_H_
#define COMET_IMAGE_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "os/file_lock.h"
#include "os/unique_fd.h"

namespace comet::image {

struct StoreOptions {
  std::string root;  // created when missing (mode 0700)
  // Defaults for short names given to FindImage/Tag ("busybox" -> docker.io/library/busybox).
  ReferenceOptions reference;
};

using Clock = std::chrono::system_clock;

// One image: a single-platform manifest and what comet knows about it.
struct ImageRecord {
  Digest manifest_digest;            // identity in the store
  Digest config_digest;              // the image ID, as docker and podman show it
  std::string manifest_media_type;   // OCI or Docker schema 2 manifest
  std::vector<std::string> names;    // canonical references ("docker.io/library/busybox:latest")
  std::vector<Digest> repo_digests;  // manifest/index digests it was pulled by, for name@digest
  Platform platform;
  int64_t size = 0;  // manifest + config + layer blobs, as stored
  Clock::time_point imported;
  Clock::time_point last_used;  // imported, or last MarkUsed (a pod started from it)
  std::string source;           // "docker://127.0.0.1:5000/app:1", "docker-archive:/x.tar", ...
};

struct AddImageOptions {
  std::vector<Reference> names;  // each name moves to this image (an image left nameless stays)
  std::optional<Digest> index_digest;  // when pulled through an index: also findable by it
  std::string source;
};

struct GcOptions {
  // Images not used for this long and not leased are removed (rkt's `image gc` semantics).
  std::chrono::seconds grace_period = std::chrono::hours(24);
  bool dry_run = false;
};
struct GcReport {
  std::vector<ImageRecord> removed_images;
  size_t removed_blobs = 0;
  size_t removed_layers = 0;
  uint64_t freed_bytes = 0;
};

class Store;
class Lease;

// Writes one blob: data goes to ingest/<hex>.partial, Commit verifies size and digest, fsyncs
// and renames it into blobs/. The ingest flock is held for the writer's life, so a second writer
// of the same blob waits; when it gets the lock the blob may be there already (done()).
// Destruction without Commit keeps the partial file for a resume (registries) unless Discard().
class BlobWriter {
 public:
  BlobWriter(BlobWriter&& other) noexcept;
  BlobWriter& operator=(BlobWriter&& other) noexcept;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();

  // True when the blob is already in the store: nothing to write, Commit() returns at once.
  [[nodiscard]] bool done() const;
  // Bytes already in the partial file (resume a download from here), 0 for a fresh one.
  [[nodiscard]] uint64_t offset() const;
  // Drops the partial content and starts from 0 (the server ignored our Range request).
  [[nodiscard]] Status Restart();
  [[nodiscard]] Status Write(std::string_view data);
  // Verifies the expected digest (or computes it, for BeginUnknownBlob) and size, publishes the
  // blob; a mismatch removes the partial file and fails naming both digests. With `lease`, the
  // digest is added to it before the blob appears in blobs/ (and before an already-stored blob
  // is reported), so a concurrent gc or image removal never deletes it in between.
  [[nodiscard]] Result<Digest> Commit(Lease* lease = nullptr);
  // Removes the partial file (a failed import; data that can never verify).
  void Discard();

 private:
  friend class Store;
  struct State;
  explicit BlobWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Protects images, blobs and layers from gc while held: pods (named, persistent until
// Release), and pulls/imports in progress (temporary: dropped when the Lease object dies or the
// process does — gc removes temporary lease files whose flock is free).
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  [[nodiscard]] const std::string& name() const;
  // Adds digests (manifests, blobs, diff IDs) to the lease (durably unless acquired with
  // Durability::kVolatile).
  [[nodiscard]] Status Add(const std::vector<Digest>& digests);

 private:
  friend class Store;
  struct State;
  explicit Lease(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A Store is an immutable handle on a directory: its methods are const even where they change
// the store on disk (the handle itself never changes).
class Store {
 public:
  [[nodiscard]] static Result<Store> Open(StoreOptions options);

  [[nodiscard]] const std::string& root() const { return options_.root; }
  [[nodiscard]] const ReferenceOptions& reference_options() const { return options_.reference; }

  // ---- blobs
  [[nodiscard]] std::string BlobPath(const Digest& digest) const;
  [[nodiscard]] bool HasBlob(const Digest& digest) const;
  // Reads a small blob (manifest, config) and verifies its digest again.
  [[nodiscard]] Result<std::string> ReadBlob(const Digest& digest, size_t limit) const;
  [[nodiscard]] Result<os::UniqueFd> OpenBlob(const Digest& digest) const;
  // Stores `data`; when `expected` is given a mismatch is an error. Idempotent.
  [[nodiscard]] Result<Digest> PutBlob(std::string_view data,
                                       const std::optional<Digest>& expected = std::nullopt) const;
  // `expected_size` < 0: unknown. Blocks while another process writes the same blob.
  [[nodiscard]] Result<BlobWriter> BeginBlob(const Digest& expected, int64_t expected_size) const;
  // For content whose digest is learnt at the end (a converted layer).
  [[nodiscard]] Result<BlobWriter> BeginUnknownBlob() const;

  // ---- unpacked layer trees, keyed by diff ID (the digest of the uncompressed tar)
  [[nodiscard]] std::string LayerPath(const Digest& diff_id) const;
  [[nodiscard]] bool HasLayer(const Digest& diff_id) const;
  // Makes sure layers/sha256/<hex> exists: under the layer's flock, when missing, calls
  // `fill(tmp_dir)` to unpack into a fresh private directory, then renames it into place, so a
  // layer tree is either complete or absent. `fill` returns the diff ID it computed; a mismatch
  // with `diff_id` removes the directory and fails.
  [[nodiscard]] Status EnsureLayer(
      const Digest& diff_id, const std::function<Result<Digest>(const std::string&)>& fill) const;

  // ---- images
  // Registers an image whose manifest, config and layer blobs are all in the store (checked).
  [[nodiscard]] Result<ImageRecord> AddImage(const Digest& manifest_digest,
                                             const AddImageOptions& options) const;
  [[nodiscard]] Result<std::vector<ImageRecord>> ListImages() const;
  // Finds by name ("busybox", "localhost:5000/a:1", "a@sha256:..."), manifest digest, repo
  // digest, or image ID / unique ID prefix (>= 3 hex digits). Ambiguity is an error.
  [[nodiscard]] Result<ImageRecord> FindImage(std::string_view what) const;
  [[nodiscard]] Result<Manifest> ReadManifest(const ImageRecord& image) const;
  [[nodiscard]] Result<ImageConfig> ReadConfig(const ImageRecord& image) const;
  // Unpacked layer directories of the image, lowest first (all must exist: EnsureLayer first).
  [[nodiscard]] Result<std::vector<std::string>> LayerPaths(const ImageRecord& image) const;
  [[nodiscard]] Status Tag(std::string_view what, const Reference& name) const;
  // Removes a name; the image stays (possibly nameless).
  [[nodiscard]] Status Untag(const Reference& name) const;
  // Removes the image (all its names) and then the blobs and layers nothing else references.
  // Refused while a lease holds it.
  [[nodiscard]] Status RemoveImage(std::string_view what) const;
  [[nodiscard]] Status MarkUsed(const Digest& manifest_digest) const;

  // ---- leases and gc
  // Named lease (a pod's, persistent): creates or reopens leases/<name>. kVolatile skips the
  // fsyncs, for a lease whose loss in a power cut does not matter (a pod that `run` starts at
  // once is dead after a reboot anyway); other processes see it at once either way.
  enum class Durability { kDurable, kVolatile };
  [[nodiscard]] Result<Lease> AcquireLease(std::string_view name,
                                           Durability durability = Durability::kDurable) const;
  [[nodiscard]] Status ReleaseLease(std::string_view name) const;  // = ReleaseStoreLease
  // Temporary lease for an operation in progress.
  [[nodiscard]] Result<Lease> TemporaryLease() const;
  [[nodiscard]] Result<GcReport> GarbageCollect(const GcOptions& options) const;

 private:
  explicit Store(StoreOptions options) : options_(std::move(options)) {}
  StoreOptions options_;
};

// Store::ReleaseLease on the store at `root` without opening it (nothing is created), in a
// translation unit of its own: the pod supervisor releases its pod's lease on `run --rm` and
// must not link the hashing and archive code the rest of the store needs.
[[nodiscard]] Status ReleaseStoreLease(const std::string& root, std::string_view name);

}  // namespace comet::image

#endif  // COMET_IMAGE_STORE_H_
