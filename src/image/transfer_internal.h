// Internals shared by the transfer_*.cc files: tar streams over libarchive, archive path rules,
// and the import steps common to every format. Not part of comet_image's API.
// Thread-compatible: one reader or writer per stream.
#ifndef COMET_IMAGE_TRANSFER_INTERNAL_H_
#define COMET_IMAGE_TRANSFER_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/manifest.h"
#include "image/store.h"
#include "image/transfer.h"
#include "os/unique_fd.h"

struct archive;
struct archive_entry;

namespace comet::image {
struct ArchiveApi;
}  // namespace comet::image

namespace comet::image::transfer {

inline constexpr size_t kCopyChunk = 1U << 20U;
// oci-layout and similar marker files are tiny.
inline constexpr size_t kMaxMarkerBytes = 64U << 10U;

// Normalizes a path read from an archive or an archive's JSON: strips "./" prefixes and empty
// or "." components. Rejects absolute paths and ".." components. "" is the archive root.
[[nodiscard]] Result<std::string> NormalizeArchivePath(std::string_view raw);

enum class EntryType { kFile, kDirectory, kSymlink, kHardlink, kOther };

struct TarEntry {
  std::string path;  // normalized
  EntryType type = EntryType::kOther;
  int64_t size = 0;
  std::string link;              // symlink target (raw) or hardlink target (normalized)
  archive_entry* raw = nullptr;  // valid until the next Next()
  bool absolute = false;         // the raw name began with "/" (only with AllowAbsolutePaths)
};

// A tar file read sequentially (any of libarchive's compression filters). Move-only.
class TarReader {
 public:
  [[nodiscard]] static Result<TarReader> Open(const std::string& path);
  TarReader(TarReader&& other) noexcept;
  TarReader& operator=(TarReader&& other) noexcept;
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;
  ~TarReader();

  // The next entry, or nullopt at the end of the archive.
  [[nodiscard]] Result<std::optional<TarEntry>> Next();
  // Streams the current entry's data to `sink`.
  [[nodiscard]] Status ReadData(const std::function<Status(std::string_view)>& sink);
  // The current entry's data; more than `limit` bytes is an error.
  [[nodiscard]] Result<std::string> ReadSmall(size_t limit);
  // The compression filter found ("none", "gzip", "zstd", "bzip2", ...).
  [[nodiscard]] std::string FilterName() const;
  [[nodiscard]] archive* handle() const { return archive_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  // Rootfs tarballs made with `tar -P` name members "/etc/x": accept them, leading "/" removed
  // (as docker import does). Archives in image formats never do; they keep rejecting them.
  void AllowAbsolutePaths() { allow_absolute_ = true; }

 private:
  TarReader() = default;
  bool allow_absolute_ = false;
  std::string path_;
  os::UniqueFd fd_;
  const ArchiveApi* la_ = nullptr;  // loaded by Open
  archive* archive_ = nullptr;
};

// A pax tar written to a sink (a file or a blob writer). Move-only.
class TarWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;
  [[nodiscard]] static Result<TarWriter> Open(Sink sink);
  TarWriter(TarWriter&& other) noexcept;
  TarWriter& operator=(TarWriter&& other) noexcept;
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;
  ~TarWriter();

  [[nodiscard]] Status AddDirectory(const std::string& name);
  // A regular file of exactly `size` bytes, written by `produce` through the given writer.
  [[nodiscard]] Status AddFile(
      const std::string& name, int64_t size,
      const std::function<Status(const std::function<Status(std::string_view)>&)>& produce);
  [[nodiscard]] Status AddBytes(const std::string& name, std::string_view data);
  // Copies `entry` (renamed to `name`, hardlink target `hardlink`) and, for regular files,
  // its data from `reader`.
  [[nodiscard]] Status CopyEntry(TarReader& reader, const TarEntry& entry, const std::string& name,
                                 const std::string& hardlink);
  // Writes the end-of-archive blocks and flushes the sink.
  [[nodiscard]] Status Close();

 private:
  struct State;
  explicit TarWriter(std::unique_ptr<State> state);
  [[nodiscard]] Status WriteData(std::string_view data);
  std::unique_ptr<State> state_;
};

// A descriptor with no urls, annotations or platform.
inline Descriptor MakeDescriptor(std::string_view media_type, Digest digest, int64_t size) {
  return Descriptor{.media_type = std::string(media_type),
                    .digest = std::move(digest),
                    .size = size,
                    .urls = {},
                    .annotations = {},
                    .platform = std::nullopt};
}

// The compression of a blob or file from its first bytes (gzip, zstd, else none).
[[nodiscard]] Result<Compression> SniffCompression(int fd);

// Streams `fd` (from offset 0 of its current position) to `sink` in chunks.
[[nodiscard]] Status CopyFd(int fd, const std::function<Status(std::string_view)>& sink);

// State of one Import call: the store, its options and a temporary lease protecting everything
// written until the images are named.
struct ImportContext {
  Store& store;
  const ImportOptions& options;
  Lease lease;
  std::string source;  // "oci-archive:/x.tar", recorded in the image
};

// A manifest ready to be named: its blobs are in the store and leased.
struct PendingImage {
  Digest manifest_digest;
  Manifest manifest;
  ImageConfig config;
  std::vector<Reference> names;        // from the archive; replaced by options.names
  std::optional<Digest> index_digest;  // when selected through an index
  bool diff_ids_verified = false;      // already checked against the layer blobs
};

// Checks layer counts, verifies diff IDs (unpacking layer trees when asked), and names the
// images (options.names apply when exactly one image is imported).
[[nodiscard]] Result<std::vector<ImageRecord>> FinishImport(ImportContext& ctx,
                                                            std::vector<PendingImage> images);

// Copies a whole file into the store as a blob of unknown digest; returns digest and size.
[[nodiscard]] Result<std::pair<Digest, int64_t>> IngestUnknown(
    ImportContext& ctx,
    const std::function<Status(const std::function<Status(std::string_view)>&)>& produce);

// Stores a small JSON document (manifest, config) and leases it.
[[nodiscard]] Result<Descriptor> PutDocument(ImportContext& ctx, std::string_view media_type,
                                             std::string_view data);

// Parses a name from an archive with the store's defaults; nullopt when it is not a full
// reference (a bare tag such as "latest").
[[nodiscard]] std::optional<Reference> ParseArchiveName(const Store& store, std::string_view text);

// Whether a name carried by an archive (ref.name, RepoTag) is the one ImportOptions::select
// asks for: the same text, the same reference, or the reference's tag.
[[nodiscard]] bool MatchesSelect(const Store& store, std::string_view select,
                                 std::string_view name);

// Format-specific imports.
[[nodiscard]] Result<std::vector<ImageRecord>> ImportOciDir(ImportContext& ctx,
                                                            const std::string& path);
[[nodiscard]] Result<std::vector<ImageRecord>> ImportOciTar(ImportContext& ctx,
                                                            const std::string& path);
[[nodiscard]] Result<std::vector<ImageRecord>> ImportDockerArchive(ImportContext& ctx,
                                                                   const std::string& path);
[[nodiscard]] Result<std::vector<ImageRecord>> ImportRootfsTarball(ImportContext& ctx,
                                                                   const std::string& path);
[[nodiscard]] Result<std::vector<ImageRecord>> ImportAci(ImportContext& ctx,
                                                         const std::string& path);

// The OCI image-layout parts shared by the directory and tar imports: walks index.json, with
// `fetch` making sure a descriptor's blob is in the store with its digest and size.
[[nodiscard]] Result<std::vector<PendingImage>> WalkOciLayout(
    ImportContext& ctx, std::string_view layout_marker, std::string_view index_json,
    const std::function<Status(const Descriptor&)>& fetch);

}  // namespace comet::image::transfer

#endif  // COMET_IMAGE_TRANSFER_INTERNAL_H_
