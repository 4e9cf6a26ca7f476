// RegistryClient::StreamBlob against a real docker-registry: whole blobs, ranged resumes (206),
// ranges past the end (416 -> restart), and a registry killed mid-stream then restarted.
#include <gtest/gtest.h>

#include "image/registry/client.h"
#include "image/registry/client_test_fixture.h"

namespace comet::image::registry {
namespace {

struct Collected {
  std::string bytes;
  int restarts = 0;
  uint64_t last_progress = 0;
};

Result<BlobFetch> Stream(RegistryClient& client, const Digest& digest, uint64_t offset,
                         Collected& out, const std::function<void()>& on_chunk = {}) {
  return client.StreamBlob(
      digest, offset,
      [&out] {
        ++out.restarts;
        out.bytes.clear();
        return Ok();
      },
      [&out, &on_chunk](std::string_view chunk) {
        out.bytes.append(chunk);
        if (on_chunk) {
          on_chunk();
        }
        return Ok();
      },
      [&out](uint64_t received) { out.last_progress = received; });
}

class StreamTest : public ClientTest {
 protected:
  // Pushes a one-layer image of `megabytes` MiB and returns the (compressed) layer's digest.
  void PushBig(int megabytes) {
    server_ = StartServer();
    ASSERT_TRUE(server_);
    ASSERT_OK(testing::PushImage(*server_, "big/app", "v1", testing::BigImageSpec(1, megabytes)));
    client_ = Client(*server_, "big/app", Options());
    ASSERT_TRUE(client_);
    auto manifest = client_->GetManifest("v1");
    ASSERT_OK(manifest);
    auto layer = Json(manifest->body)["layers"][0];
    auto digest = Digest::Parse(layer["digest"].get<std::string>());
    ASSERT_OK(digest);
    layer_ = *digest;
    layer_size_ = layer["size"].get<uint64_t>();
  }

  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<RegistryClient> client_;
  Digest layer_ = Digest::Sha256Of("");
  uint64_t layer_size_ = 0;
};

TEST_F(StreamTest, WholeAndResumed) {
  ASSERT_NO_FATAL_FAILURE(PushBig(2));
  Collected whole;
  auto fetched = Stream(*client_, layer_, 0, whole);
  ASSERT_OK(fetched);
  EXPECT_FALSE(fetched->resumed);
  EXPECT_EQ(fetched->received, layer_size_);
  EXPECT_EQ(whole.last_progress, layer_size_);
  EXPECT_EQ(Digest::Sha256Of(whole.bytes), layer_);

  Collected tail;
  auto resumed = Stream(*client_, layer_, 1000, tail);
  ASSERT_OK(resumed);
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(tail.restarts, 0);
  EXPECT_EQ(tail.bytes, whole.bytes.substr(1000));

  // A range past the end: the registry answers 416 and the client restarts from 0.
  Collected past;
  auto restarted = Stream(*client_, layer_, layer_size_ + 10, past);
  ASSERT_OK(restarted);
  EXPECT_FALSE(restarted->resumed);
  EXPECT_EQ(past.restarts, 1);
  EXPECT_EQ(past.bytes, whole.bytes);
}

TEST_F(StreamTest, SinkErrorStopsTheTransfer) {
  ASSERT_NO_FATAL_FAILURE(PushBig(2));
  int calls = 0;
  auto fetched = client_->StreamBlob(
      layer_, 0, [] { return Ok(); },
      [&calls](std::string_view) -> Status {
        ++calls;
        return Err(Error(ENOSPC, "disk full"));
      },
      {});
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), ENOSPC);
  EXPECT_EQ(calls, 1);
}

TEST_F(StreamTest, KilledMidStreamThenResumedAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(PushBig(48));
  Collected first;
  bool killed = false;
  auto start = std::chrono::steady_clock::now();
  auto broken = Stream(*client_, layer_, 0, first, [&] {
    if (!killed && first.bytes.size() > (1U << 20U)) {
      killed = true;
      server_->Kill();
    }
  });
  ASSERT_TRUE(killed);
  ASSERT_FALSE(broken) << "the transfer survived its server";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  ASSERT_LT(first.bytes.size(), layer_size_);

  ASSERT_OK(server_->Restart());
  Collected rest;
  auto resumed = Stream(*client_, layer_, first.bytes.size(), rest);
  ASSERT_OK(resumed);
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(Digest::Sha256Of(first.bytes + rest.bytes), layer_);
}

}  // namespace
}  // namespace comet::image::registry
