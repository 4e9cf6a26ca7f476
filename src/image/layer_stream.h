// LayerStream: pulls a layer blob from a byte source, decompresses it (gzip, zstd or none) and
// hashes both sides, handing out the uncompressed bytes in large chunks; PipelinedLayerStream runs
// one on a worker thread. Internal to image/. Not thread-safe: one stream per caller.
#ifndef COMET_IMAGE_LAYER_STREAM_H_
#define COMET_IMAGE_LAYER_STREAM_H_

#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
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

// Uncompressed tar bytes in chunks, and the digests once they are all read.
class TarChunks {
 public:
  TarChunks() = default;
  virtual ~TarChunks() = default;
  TarChunks(const TarChunks&) = delete;
  TarChunks& operator=(const TarChunks&) = delete;
  TarChunks(TarChunks&&) = delete;
  TarChunks& operator=(TarChunks&&) = delete;

  // The next chunk of uncompressed bytes (valid until the next call); empty at the end. After
  // an error, the same error again.
  [[nodiscard]] virtual Result<std::string_view> Next() = 0;
  // Reads the rest of the stream (so the digests cover all of it) and returns the digests.
  [[nodiscard]] virtual Result<LayerDigests> Finish() = 0;
};

class LayerStream final : public TarChunks {
 public:
  // `compression` nullopt: detected from the first bytes. `max_uncompressed` 0: no limit.
  LayerStream(ByteSource source, std::optional<Compression> compression, uint64_t max_uncompressed);
  ~LayerStream() override;
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;
  LayerStream(LayerStream&&) = delete;
  LayerStream& operator=(LayerStream&&) = delete;

  [[nodiscard]] Result<std::string_view> Next() override;
  [[nodiscard]] Result<LayerDigests> Finish() override;
  // Decompresses up to `size` bytes into `buffer`; 0 at the end.
  [[nodiscard]] Result<size_t> Read(char* buffer, size_t size);

 private:
  [[nodiscard]] Status Start();
  [[nodiscard]] Result<bool> FillInput();  // false at end of input
  [[nodiscard]] Result<size_t> InflateSome(char* out, size_t size);
  [[nodiscard]] Result<size_t> ZstdSome(char* out, size_t size);
  [[nodiscard]] Result<size_t> Produce(char* out, size_t size);
  [[nodiscard]] Result<size_t> ReadSome(char* buffer, size_t size);

  ByteSource source_;
  std::optional<Compression> compression_;
  uint64_t max_uncompressed_;
  Hasher compressed_hasher_;
  Hasher uncompressed_hasher_;
  std::vector<char> in_;
  std::vector<char> out_;  // for Next() only: allocated on first use
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool started_ = false;
  bool input_done_ = false;
  bool done_ = false;
  std::optional<Error> error_;
  // gzip: a member is being decoded (false between members); zstd: a frame is incomplete.
  bool in_member_ = false;
  uint64_t members_ = 0;  // gzip members or zstd frames completed
  z_stream zs_{};
  bool zs_init_ = false;
  ZSTD_DCtx* zstd_ = nullptr;
};

// Runs a LayerStream on a worker thread (decompression and both hashes) that fills a few
// recycled 1 MiB buffers ahead of the caller, so that gunzip overlaps with writing the files.
// Next/Finish are called from one thread; the stream is used by the worker only until the
// destructor has stopped and joined it. If no thread can be started, it runs inline.
class PipelinedLayerStream final : public TarChunks {
 public:
  explicit PipelinedLayerStream(LayerStream& stream);
  ~PipelinedLayerStream() override;  // stops the worker (within one chunk) and joins it
  PipelinedLayerStream(const PipelinedLayerStream&) = delete;
  PipelinedLayerStream& operator=(const PipelinedLayerStream&) = delete;
  PipelinedLayerStream(PipelinedLayerStream&&) = delete;
  PipelinedLayerStream& operator=(PipelinedLayerStream&&) = delete;

  [[nodiscard]] Result<std::string_view> Next() override;
  [[nodiscard]] Result<LayerDigests> Finish() override;

 private:
  struct Buffer {
    std::vector<char> data;
    size_t size = 0;
  };
  void Work();
  // Fills `buffer` until it is full or the stream ends (`*end`); stops early when stopping.
  [[nodiscard]] Status Fill(Buffer& buffer, bool* end);

  LayerStream& stream_;
  std::vector<Buffer> buffers_;
  std::mutex mu_;
  std::condition_variable free_cv_;  // the worker waits for a free buffer (or stop_)
  std::condition_variable full_cv_;  // the caller waits for a full buffer (or done_)
  std::deque<size_t> free_;          // indexes into buffers_
  std::deque<size_t> full_;
  std::optional<size_t> held_;      // the buffer the caller's last chunk points into
  std::atomic<bool> stop_ = false;  // set under mu_, read without it inside Fill
  bool done_ = false;               // the worker has ended: error_ or digests_ is final
  std::optional<Error> error_;
  LayerDigests digests_;
  bool inline_ = false;  // no worker thread: Next/Finish go straight to stream_
  std::thread worker_;
};

}  // namespace comet::image

#endif  // COMET_IMAGE_LAYER_STREAM_H_
