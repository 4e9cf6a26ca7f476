// PipelinedLayerStream (layer_stream.h): a worker thread decompresses and hashes into a ring of
// recycled buffers while the caller unpacks the previous ones. On two cores this hides gunzip
// (about 200 MB/s with zlib) behind the file system work instead of adding to it.
#include <string>
#include <system_error>
#include <utility>

#include "image/layer_stream.h"

namespace comet::image {
namespace {

// Four 1 MiB buffers: enough slack that neither side waits on the other's bursts (a large
// file's writes, a run of small files), small enough not to matter next to the page cache.
constexpr size_t kBuffers = 4;
constexpr size_t kBufferSize = size_t{1} << 20;

}  // namespace

PipelinedLayerStream::PipelinedLayerStream(LayerStream& stream)
    : stream_(stream), buffers_(kBuffers) {
  for (size_t i = 0; i < buffers_.size(); ++i) {
    buffers_[i].data.resize(kBufferSize);
    free_.push_back(i);
  }
  try {
    worker_ = std::thread([this] { Work(); });
  } catch (const std::system_error&) {
    inline_ = true;  // EAGAIN under a tight pids limit: slower, but the same result
  }
}

PipelinedLayerStream::~PipelinedLayerStream() {
  if (!worker_.joinable()) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  free_cv_.notify_all();
  worker_.join();
}

Status PipelinedLayerStream::Fill(Buffer& buffer, bool* end) {
  buffer.size = 0;
  *end = false;
  while (buffer.size < buffer.data.size() && !stop_.load(std::memory_order_relaxed)) {
    ASSIGN_OR_RETURN(
        size_t n, stream_.Read(buffer.data.data() + buffer.size, buffer.data.size() - buffer.size));
    if (n == 0) {
      *end = true;
      break;
    }
    buffer.size += n;
  }
  return Ok();
}

void PipelinedLayerStream::Work() {
  while (true) {
    size_t index = 0;
    {
      std::unique_lock lock(mu_);
      free_cv_.wait(lock, [this] { return stop_ || !free_.empty(); });
      if (stop_) {
        return;
      }
      index = free_.front();
      free_.pop_front();
    }
    bool end = false;
    Status status = Fill(buffers_[index], &end);
    std::optional<Error> error;
    LayerDigests digests;
    if (!status) {
      error = std::move(status).error();
    } else if (end) {
      // After the end, Finish only reads the hashers: cheap, and on this thread like the rest.
      Result<LayerDigests> finished = stream_.Finish();
      if (finished) {
        digests = std::move(*finished);
      } else {
        error = std::move(finished).error();
      }
    }
    const bool last = error.has_value() || end;
    {
      std::lock_guard lock(mu_);
      // Bytes decoded before an error go out first, as they would without the worker.
      if (buffers_[index].size > 0) {
        full_.push_back(index);
      } else {
        free_.push_back(index);
      }
      if (last) {
        done_ = true;
        error_ = std::move(error);
        digests_ = std::move(digests);
      }
    }
    full_cv_.notify_one();
    if (last) {
      return;
    }
  }
}

Result<std::string_view> PipelinedLayerStream::Next() {
  if (inline_) {
    return stream_.Next();
  }
  std::unique_lock lock(mu_);
  if (held_) {
    free_.push_back(*held_);
    held_.reset();
    free_cv_.notify_one();
  }
  full_cv_.wait(lock, [this] { return done_ || !full_.empty(); });
  if (!full_.empty()) {
    held_ = full_.front();
    full_.pop_front();
    const Buffer& buffer = buffers_[*held_];
    return std::string_view(buffer.data.data(), buffer.size);
  }
  if (error_) {
    return Err(*error_);
  }
  return std::string_view();
}

Result<LayerDigests> PipelinedLayerStream::Finish() {
  if (inline_) {
    return stream_.Finish();
  }
  while (true) {
    ASSIGN_OR_RETURN(std::string_view chunk, Next());
    if (chunk.empty()) {
      break;
    }
  }
  std::lock_guard lock(mu_);
  return digests_;
}

}  // namespace comet::image
