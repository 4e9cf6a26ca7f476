// Layer tar streams: decompression with digests of both sides, and a safe unpacker that keeps
// every write inside the destination and rejects hostile archives.
// Thread-compatible: no shared state; one call per stream.
#ifndef COMET_IMAGE_UNPACK_H_
#define COMET_IMAGE_UNPACK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace comet::image {

struct LayerDigests {
  Digest compressed;  // digest of the bytes read (the blob)
  uint64_t compressed_size = 0;
  Digest diff_id;  // digest of the uncompressed tar
  uint64_t uncompressed_size = 0;
};

// Reads all of `source_fd` (from its current offset), decompresses it (`compression` nullopt:
// detect gzip/zstd by magic bytes, else uncompressed) and passes the tar bytes to `sink`.
// Truncated or corrupt compressed data is an error naming the compression.
[[nodiscard]] Result<LayerDigests> Decompress(int source_fd, std::optional<Compression> compression,
                                              const std::function<Status(std::string_view)>& sink);

// Decompress with no sink: the digests and sizes of a blob and of its uncompressed content.
[[nodiscard]] Result<LayerDigests> DigestLayer(int source_fd,
                                               std::optional<Compression> compression);

// A container id range mapped to host ids (as in /proc/<pid>/uid_map).
struct IdRange {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct UnpackOptions {
  enum class Whiteouts {
    // Layer trees for overlayfs: ".wh.x" becomes a 0/0 character device "x", ".wh..wh..opq"
    // sets <overlay_xattr_prefix>overlay.opaque=y on its directory.
    kOverlay,
    // Flattening onto a tree holding the lower layers: ".wh.x" removes x, ".wh..wh..opq"
    // empties the directory of what lower layers put there.
    kApply,
  };
  Whiteouts whiteouts = Whiteouts::kOverlay;
  std::string overlay_xattr_prefix = "trusted.";  // "user." for rootless overlay (userxattr)
  // Ownership: when true, chown to the tar's ids mapped through uid_map/gid_map (empty map =
  // identity; an id outside the map is an error). When false (rootless without a user
  // namespace), files keep the caller's ownership.
  bool keep_ownership = true;
  std::vector<IdRange> uid_map;
  std::vector<IdRange> gid_map;
  bool allow_devices = true;  // false: character/block devices and fifos... skipped, counted
  bool keep_setid = true;     // false: setuid/setgid bits are dropped
  bool keep_xattrs = true;    // security.capability, user.*; trusted.* never from archives
  uint64_t max_uncompressed_bytes = 0;  // 0: no limit
};

struct UnpackStats {
  LayerDigests digests;
  uint64_t entries = 0;
  uint64_t skipped_devices = 0;
};

// Unpacks the tar stream read from `source_fd` into the existing directory `dest`. Rejects
// (with an error naming the entry) any entry whose path has ".." or resolves outside dest,
// whose parent path contains a symlink, hardlinks whose target is outside dest or not yet
// unpacked, and malformed or truncated archives. On error, `dest` may hold partial content:
// callers unpack into a private temp directory and remove it (Store::EnsureLayer does).
[[nodiscard]] Result<UnpackStats> UnpackLayer(int source_fd, std::optional<Compression> compression,
                                              const std::string& dest,
                                              const UnpackOptions& options);

// UnpackLayer for callers that already have the uncompressed tar: `read_tar_bytes` fills up to
// `size` bytes and returns how many (0 at the end). Both digests in the result are the tar's.
[[nodiscard]] Result<UnpackStats> UnpackTarStream(
    const std::function<Result<size_t>(char* buffer, size_t size)>& read_tar_bytes,
    const std::string& dest, const UnpackOptions& options);

}  // namespace comet::image

#endif  // COMET_IMAGE_UNPACK_H_
