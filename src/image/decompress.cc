// Layer decompression with digests on both sides (LayerStream, Decompress, DigestLayer);
// Decompress runs the stream on a worker thread (layer_pipe.cc) while the sink consumes.
// gzip through zlib (multi-member streams), zstd through libzstd (concatenated frames).
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "image/layer_stream.h"
#include "image/unpack.h"

namespace comet::image {
namespace {

// Large chunks: one read(2) and one sink call per MiB keeps per-call costs invisible.
constexpr size_t kChunkSize = size_t{1} << 20;

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

bool HasPrefix(const char* data, size_t size, const unsigned char* magic, size_t magic_size) {
  return size >= magic_size && std::memcmp(data, magic, magic_size) == 0;
}

Error Truncated(std::string_view what) {
  return Error::Invalid("truncated " + std::string(what) + " stream");
}

}  // namespace

ByteSource FdSource(int fd) {
  return [fd](char* buffer, size_t size) -> Result<size_t> {
    while (true) {
      ssize_t n = read(fd, buffer, size);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR) {
        return Err(Error::FromErrno("read", "layer blob"));
      }
    }
  };
}

LayerStream::LayerStream(ByteSource source, std::optional<Compression> compression,
                         uint64_t max_uncompressed)
    : source_(std::move(source)),
      compression_(compression),
      max_uncompressed_(max_uncompressed),
      in_(kChunkSize) {}

LayerStream::~LayerStream() {
  if (zs_init_) {
    inflateEnd(&zs_);
  }
  if (zstd_ != nullptr) {
    ZSTD_freeDCtx(zstd_);
  }
}

Result<bool> LayerStream::FillInput() {
  if (in_pos_ == in_len_) {
    in_pos_ = in_len_ = 0;
  }
  if (input_done_ || in_len_ == in_.size()) {
    return !input_done_;
  }
  ASSIGN_OR_RETURN(size_t n, source_(in_.data() + in_len_, in_.size() - in_len_));
  if (n == 0) {
    input_done_ = true;
    return false;
  }
  compressed_hasher_.Update(in_.data() + in_len_, n);
  in_len_ += n;
  return true;
}

Status LayerStream::Start() {
  started_ = true;
  if (!compression_) {
    // Enough bytes for the longest magic (or the whole input when it is shorter).
    while (in_len_ < sizeof(kZstdMagic)) {
      ASSIGN_OR_RETURN(bool more, FillInput());
      if (!more) {
        break;
      }
    }
    if (HasPrefix(in_.data(), in_len_, kGzipMagic, sizeof(kGzipMagic))) {
      compression_ = Compression::kGzip;
    } else if (HasPrefix(in_.data(), in_len_, kZstdMagic, sizeof(kZstdMagic))) {
      compression_ = Compression::kZstd;
    } else {
      compression_ = Compression::kNone;
    }
  }
  if (*compression_ == Compression::kGzip) {
    // 16 + MAX_WBITS: a gzip wrapper only (no zlib or raw deflate).
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
      return Err(Error(ENOMEM, "gzip: cannot initialise zlib"));
    }
    zs_init_ = true;
  } else if (*compression_ == Compression::kZstd) {
    zstd_ = ZSTD_createDCtx();
    if (zstd_ == nullptr) {
      return Err(Error(ENOMEM, "zstd: cannot create a decompression context"));
    }
  }
  return Ok();
}

Result<size_t> LayerStream::InflateSome(char* out, size_t size) {
  // zlib counts in uInt.
  const auto out_size = static_cast<uInt>(std::min<size_t>(size, uInt{1} << 30));
  zs_.next_out = reinterpret_cast<Bytef*>(out);
  zs_.avail_out = out_size;
  while (zs_.avail_out == out_size) {
    if (in_pos_ == in_len_) {
      ASSIGN_OR_RETURN(bool more, FillInput());
      // Between members, the end of input is the end of the stream.
      if (!more && !in_member_) {
        return members_ == 0 ? Err(Truncated("gzip")) : Result<size_t>(0);
      }
    }
    if (!in_member_) {
      inflateReset(&zs_);
      in_member_ = true;
    }
    zs_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    zs_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
    int rc = inflate(&zs_, Z_NO_FLUSH);
    in_pos_ = in_len_ - zs_.avail_in;
    if (rc == Z_STREAM_END) {
      in_member_ = false;
      ++members_;
    } else if (rc == Z_BUF_ERROR && input_done_ && in_pos_ == in_len_) {
      return Err(Truncated("gzip"));
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string reason = zs_.msg != nullptr ? zs_.msg : "error " + std::to_string(rc);
      if (members_ > 0 && zs_.total_out == 0) {
        reason.insert(0, "data after the last member: ");
      }
      return Err(Error::Invalid("corrupt gzip stream: " + reason));
    }
  }
  return out_size - zs_.avail_out;
}

// NOLINTNEXTLINE(readability-non-const-parameter): libzstd writes through ZSTD_outBuffer::dst
Result<size_t> LayerStream::ZstdSome(char* out_data, size_t size) {
  ZSTD_outBuffer out{out_data, size, 0};
  while (out.pos == 0) {
    if (in_pos_ == in_len_) {
      ASSIGN_OR_RETURN(bool more, FillInput());
      if (!more && !in_member_) {
        return members_ == 0 ? Err(Truncated("zstd")) : Result<size_t>(0);
      }
    }
    ZSTD_inBuffer in{in_.data() + in_pos_, in_len_ - in_pos_, 0};
    size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
    in_pos_ += in.pos;
    if (ZSTD_isError(rc) != 0) {
      return Err(Error::Invalid(std::string("corrupt zstd stream: ") + ZSTD_getErrorName(rc)));
    }
    if (rc == 0) {
      in_member_ = false;
      ++members_;
    } else {
      in_member_ = true;
      // No input left and nothing more to flush: the frame was cut short.
      if (input_done_ && in_pos_ == in_len_ && out.pos == 0) {
        return Err(Truncated("zstd"));
      }
    }
  }
  return out.pos;
}

Result<size_t> LayerStream::Produce(char* out, size_t size) {
  switch (*compression_) {
    case Compression::kGzip:
      return InflateSome(out, size);
    case Compression::kZstd:
      return ZstdSome(out, size);
    case Compression::kNone:
      break;
  }
  // Uncompressed: bytes already read for detection first, then straight into `out`.
  if (in_pos_ < in_len_) {
    size_t n = std::min(in_len_ - in_pos_, size);
    std::memcpy(out, in_.data() + in_pos_, n);
    in_pos_ += n;
    if (in_pos_ == in_len_) {
      in_pos_ = in_len_ = 0;
    }
    return n;
  }
  if (input_done_) {
    return 0;
  }
  ASSIGN_OR_RETURN(size_t n, source_(out, size));
  if (n == 0) {
    input_done_ = true;
  }
  return n;
}

Result<size_t> LayerStream::ReadSome(char* buffer, size_t size) {
  if (!started_) {
    RETURN_IF_ERROR(Start());
  }
  ASSIGN_OR_RETURN(size_t n, Produce(buffer, size));
  uncompressed_hasher_.Update(buffer, n);
  if (max_uncompressed_ != 0 && uncompressed_hasher_.size() > max_uncompressed_) {
    return Err(Error(EFBIG, "layer is larger than the limit of " +
                                std::to_string(max_uncompressed_) + " uncompressed bytes"));
  }
  return n;
}

Result<size_t> LayerStream::Read(char* buffer, size_t size) {
  if (error_) {
    return Err(*error_);
  }
  if (done_ || size == 0) {
    return 0;
  }
  Result<size_t> n = ReadSome(buffer, size);
  if (!n) {
    error_ = n.error();  // sticky: the decoder's state is unusable after an error
  } else if (*n == 0) {
    done_ = true;
  }
  return n;
}

Result<std::string_view> LayerStream::Next() {
  if (out_.empty()) {
    out_.resize(kChunkSize);
  }
  ASSIGN_OR_RETURN(size_t n, Read(out_.data(), out_.size()));
  return std::string_view(out_.data(), n);
}

Result<LayerDigests> LayerStream::Finish() {
  while (true) {
    ASSIGN_OR_RETURN(std::string_view chunk, Next());
    if (chunk.empty()) {
      break;
    }
  }
  Digest diff_id = uncompressed_hasher_.Current();
  uint64_t size = uncompressed_hasher_.size();
  if (compression_ == Compression::kNone) {
    // The bytes read straight into out_ skipped the compressed hasher: both sides are equal.
    return LayerDigests{diff_id, size, diff_id, size};
  }
  return LayerDigests{compressed_hasher_.Current(), compressed_hasher_.size(), diff_id, size};
}

Result<LayerDigests> Decompress(int source_fd, std::optional<Compression> compression,
                                const std::function<Status(std::string_view)>& sink) {
  LayerStream stream(FdSource(source_fd), compression, 0);
  // The sink runs on this thread while the worker decompresses the next chunks.
  PipelinedLayerStream pipelined(stream);
  while (true) {
    ASSIGN_OR_RETURN(std::string_view chunk, pipelined.Next());
    if (chunk.empty()) {
      break;
    }
    RETURN_IF_ERROR(sink(chunk));
  }
  return pipelined.Finish();
}

Result<LayerDigests> DigestLayer(int source_fd, std::optional<Compression> compression) {
  LayerStream stream(FdSource(source_fd), compression, 0);
  return stream.Finish();
}

}  // namespace comet::image
