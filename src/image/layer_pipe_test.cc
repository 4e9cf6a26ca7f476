// Tests of the decompression worker (PipelinedLayerStream) and of how UnpackLayer and
// Decompress behave with it: same bytes and errors as inline, and failures on either side end
// the call (worker joined) without reading the rest of an endless input.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "image/digest.h"
#include "image/layer_stream.h"
#include "image/unpack.h"
#include "image/unpack_test_util.h"
#include "os/file.h"
#include "testing/tar_builder.h"

namespace comet::image {
namespace {

using comet::testing::Gzip;
using comet::testing::TarBuilder;
using comet::testing::Zstd;
using testing::BlobFd;
using testing::Sandbox;

constexpr size_t kMiB = size_t{1} << 20;

// A tar of many files, several MiB, with varied content (so gzip output is not tiny).
std::string ManyFilesTar(int files, size_t file_size) {
  TarBuilder builder;
  for (int i = 0; i < files; ++i) {
    std::string data(file_size, '\0');
    for (size_t j = 0; j < data.size(); ++j) {
      data[j] = static_cast<char>((j * 131 + static_cast<size_t>(i) * 7) % 253);
    }
    builder.File("d" + std::to_string(i % 7) + "/f" + std::to_string(i), std::move(data));
  }
  return builder.Finish();
}

// Writes `head` and then gzip members of zeros forever into a socket, until the reader goes.
class EndlessFeeder {
 public:
  explicit EndlessFeeder(std::string head) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      std::abort();
    }
    reader_ = os::UniqueFd(fds[0]);
    writer_ = os::UniqueFd(fds[1]);
    thread_ = std::thread([this, head = std::move(head)] {
      std::string zeros = Gzip(std::string(4 * kMiB, '\0'));
      if (!Send(head)) {
        return;
      }
      while (Send(zeros)) {
      }
    });
  }
  ~EndlessFeeder() {
    reader_.Reset();  // the feeder's next send fails
    thread_.join();
  }
  EndlessFeeder(const EndlessFeeder&) = delete;
  EndlessFeeder& operator=(const EndlessFeeder&) = delete;
  EndlessFeeder(EndlessFeeder&&) = delete;
  EndlessFeeder& operator=(EndlessFeeder&&) = delete;

  [[nodiscard]] int fd() const { return reader_.get(); }
  [[nodiscard]] uint64_t sent() const { return sent_.load(); }

 private:
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(writer_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
      sent_ += static_cast<uint64_t>(n);
    }
    return true;
  }

  os::UniqueFd reader_;
  os::UniqueFd writer_;
  std::atomic<uint64_t> sent_ = 0;
  std::thread thread_;
};

TEST(PipelinedLayerStream, SameBytesAndDigestsAsInline) {
  std::string tar = ManyFilesTar(40, 200000);  // ~8 MiB: more than the worker's buffers
  for (const std::string& blob : {tar, Gzip(tar), Zstd(tar)}) {
    os::UniqueFd fd = BlobFd(blob);
    LayerStream stream(FdSource(fd.get()), std::nullopt, 0);
    PipelinedLayerStream pipelined(stream);
    std::string out;
    while (true) {
      Result<std::string_view> chunk = pipelined.Next();
      ASSERT_TRUE(chunk) << chunk.error().ToString();
      if (chunk->empty()) {
        break;
      }
      out.append(*chunk);
    }
    Result<LayerDigests> digests = pipelined.Finish();
    ASSERT_TRUE(digests) << digests.error().ToString();
    EXPECT_EQ(out, tar);
    EXPECT_EQ(digests->diff_id, Digest::Sha256Of(tar));
    EXPECT_EQ(digests->compressed, Digest::Sha256Of(blob));
    EXPECT_EQ(digests->compressed_size, blob.size());
  }
}

TEST(PipelinedLayerStream, StopsWithinItsBuffersWhenTheCallerQuits) {
  std::atomic<uint64_t> produced = 0;
  ByteSource endless = [&](char* buffer, size_t size) -> Result<size_t> {
    std::fill(buffer, buffer + size, 'x');
    produced += size;
    return size;
  };
  {
    LayerStream stream(endless, Compression::kNone, 0);
    PipelinedLayerStream pipelined(stream);
    ASSERT_TRUE(pipelined.Next());
  }  // must return: the worker is stopped and joined
  // Four buffers and the stream's own: the worker never runs further ahead.
  EXPECT_LE(produced.load(), 6 * kMiB);
}

TEST(PipelinedLayerStream, SourceErrorComesAfterTheBytesBeforeIt) {
  int calls = 0;
  ByteSource failing = [&](char* buffer, size_t size) -> Result<size_t> {
    if (++calls > 3) {
      return Err(Error::Invalid("source broke"));
    }
    std::fill(buffer, buffer + size, 'y');
    return size;
  };
  LayerStream stream(failing, Compression::kNone, 0);
  PipelinedLayerStream pipelined(stream);
  size_t total = 0;
  Result<std::string_view> chunk;
  while ((chunk = pipelined.Next()) && !chunk->empty()) {
    total += chunk->size();
  }
  ASSERT_FALSE(chunk);
  EXPECT_EQ(chunk.error().message(), "source broke");
  EXPECT_EQ(total, 3 * kMiB);
  // The error stays.
  EXPECT_FALSE(pipelined.Next());
  Result<LayerDigests> digests = pipelined.Finish();
  ASSERT_FALSE(digests);
  EXPECT_EQ(digests.error().message(), "source broke");
}

// A decompression error deep in a layer: the files before it are written and the error is
// the decompressor's own, as without the worker.
TEST(PipelinedUnpack, DecompressionErrorIsTheSameError) {
  std::string tar = ManyFilesTar(60, 150000);
  std::string gz = Gzip(tar);
  std::string zst = Zstd(tar);
  std::string corrupt_zst = zst;
  for (size_t i = zst.size() * 3 / 4; i < zst.size() * 3 / 4 + 64; ++i) {
    corrupt_zst[i] = static_cast<char>(corrupt_zst[i] ^ 0x33);
  }
  struct Case {
    std::string blob;
    std::string message;
  };
  const Case cases[] = {{gz.substr(0, gz.size() * 3 / 4), "truncated gzip stream"},
                        {gz + "junk", "corrupt gzip stream: data after the last member"},
                        {corrupt_zst, "corrupt zstd stream: "}};
  for (const Case& c : cases) {
    Sandbox sandbox;
    Result<UnpackStats> result = sandbox.Unpack(c.blob);
    ASSERT_FALSE(result) << c.message;
    EXPECT_NE(result.error().ToString().find(c.message), std::string::npos)
        << result.error().ToString();
    EXPECT_TRUE(os::Exists(sandbox.dest() + "/d0/f0")) << c.message;
    // The same error as the inline decompressor gives.
    os::UniqueFd fd = BlobFd(c.blob);
    LayerStream inline_stream(FdSource(fd.get()), std::nullopt, 0);
    Result<LayerDigests> inline_result = inline_stream.Finish();
    ASSERT_FALSE(inline_result);
    EXPECT_EQ(result.error().message(), inline_result.error().message());
  }
}

// The tree writer fails on the first entry while the input never ends: UnpackLayer returns the
// writer's error (the worker stopped and joined) without draining the input.
TEST(PipelinedUnpack, WriterErrorStopsTheWorker) {
  std::string head = Gzip(TarBuilder()
                              .File("../escape", "x")
                              .File("big", std::string(kMiB, 'b'))
                              .Finish(/*end_marker=*/false));
  EndlessFeeder feeder(head);
  Sandbox sandbox;
  Result<UnpackStats> result =
      UnpackLayer(feeder.fd(), std::nullopt, sandbox.dest(), Sandbox::Rootless());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().ToString().find("\"..\""), std::string::npos)
      << result.error().ToString();
}

TEST(PipelinedUnpack, DecompressSinkErrorStopsTheWorker) {
  EndlessFeeder feeder(Gzip(std::string(3 * kMiB, 'h')));
  int calls = 0;
  Result<LayerDigests> result = Decompress(feeder.fd(), std::nullopt, [&](std::string_view) {
    return ++calls == 2 ? Status(Err(Error::Invalid("sink says no"))) : Ok();
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "sink says no");
  EXPECT_EQ(calls, 2);
}

TEST(PipelinedUnpack, LimitErrorFromTheWorker) {
  Sandbox sandbox;
  UnpackOptions options = Sandbox::Rootless();
  options.max_uncompressed_bytes = 3 * kMiB;
  std::string tar = ManyFilesTar(40, 200000);
  Result<UnpackStats> result = sandbox.Unpack(Gzip(tar), options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), EFBIG);
  EXPECT_NE(result.error().ToString().find("larger than the limit"), std::string::npos);
}

}  // namespace
}  // namespace comet::image
