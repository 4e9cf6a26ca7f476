// LayerStream: pulls a layer blob from a byte source, decompresses it (gzip, zstd or none) and
// hashes both sides, handing out the uncompressed bytes in large chunks. Internal to image/.
// Not thread-safe: one stream per caller.
#ifndef COMET_IMAGE_LAYER_STREAM_H_
#define COMET_IMAGE_LAYER_STREAM_H_

#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/unpack.h"

namespace comet::image {

// Reads up to `size` bytes into `buffer`; 0 means end of input.
using ByteSource = std::function<Result<size_t>(char* buffer, size_t size)>;

// A ByteSource reading `fd` from its current offset.
ByteSource FdSource(int fd);

class LayerStream {
 public:
  // `compression` nullopt: detected from the first bytes. `max_uncompressed` 0: no limit.
  LayerStream(ByteSource source, std::optional<Compression> compression, uint64_t max_uncompressed);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The next chunk of uncompressed bytes (valid until the next call); empty at the end.
  [[nodiscard]] Result<std::string_view> Next();
  // Reads the rest of the stream (so the digests cover all of it) and returns the digests.
  [[nodiscard]] Result<LayerDigests> Finish();

 private:
  [[nodiscard]] Status Start();
  [[nodiscard]] Result<bool> FillInput();  // false at end of input
  [[nodiscard]] Result<size_t> InflateSome();
  [[nodiscard]] Result<size_t> ZstdSome();
  [[nodiscard]] Result<size_t> Produce();

  ByteSource source_;
  std::optional<Compression> compression_;
  uint64_t max_uncompressed_;
  Hasher compressed_hasher_;
  Hasher uncompressed_hasher_;
  std::vector<char> in_;
  std::vector<char> out_;
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool started_ = false;
  bool input_done_ = false;
  bool done_ = false;
  // gzip: a member is being decoded (false between members); zstd: a frame is incomplete.
  bool in_member_ = false;
  uint64_t members_ = 0;  // gzip members or zstd frames completed
  z_stream zs_{};
  bool zs_init_ = false;
  ZSTD_DCtx* zstd_ = nullptr;
};

}  // namespace comet::image

#endif  // COMET_IMAGE_LAYER_STREAM_H_
