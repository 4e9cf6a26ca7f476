// RegistryClient against a real docker-registry on 127.0.0.1 (plain, htpasswd, token auth, TLS),
// with images pushed by skopeo. Needs docker-registry, skopeo, htpasswd, openssl and python3.
#include "image/registry/client.h"

#include <gtest/gtest.h>

#include "image/manifest.h"
#include "image/registry/client_test_fixture.h"

namespace comet::image::registry {
namespace {

TEST_F(ClientTest, ManifestByTagAndByDigestOci) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  auto pushed = testing::PushImage(*server, "test/small", "v1", testing::SmallImageSpec());
  ASSERT_OK(pushed);
  auto client = Client(*server, "test/small", Options());
  ASSERT_TRUE(client);

  auto by_tag = client->GetManifest("v1");
  ASSERT_OK(by_tag);
  EXPECT_EQ(by_tag->media_type, media_type::kOciManifest);
  EXPECT_EQ(by_tag->digest, *pushed);
  EXPECT_EQ(Digest::Sha256Of(by_tag->body), *pushed);

  auto by_digest = client->GetManifest(pushed->ToString());
  ASSERT_OK(by_digest);
  EXPECT_EQ(by_digest->body, by_tag->body);
  EXPECT_EQ(by_digest->digest, *pushed);
}

TEST_F(ClientTest, DockerSchema2Manifest) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  PushOptions push;
  push.format = testing::PushFormat::kDockerV2S2;
  auto pushed = testing::PushImage(*server, "test/docker", "v2", testing::SmallImageSpec(), push);
  ASSERT_OK(pushed);
  auto client = Client(*server, "test/docker", Options());
  ASSERT_TRUE(client);
  auto manifest = client->GetManifest("v2");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->media_type, media_type::kDockerManifest);
  EXPECT_EQ(manifest->digest, *pushed);
}

TEST_F(ClientTest, MultiArchIndexAndZstdLayers) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  PushOptions push;
  push.compression = testing::PushCompression::kZstd;
  auto pushed = testing::PushMultiArchImage(
      *server, "test/multi", "latest",
      {testing::SmallImageSpec("amd64"), testing::SmallImageSpec("arm64")}, push);
  ASSERT_OK(pushed);
  auto client = Client(*server, "test/multi", Options());
  ASSERT_TRUE(client);
  auto index = client->GetManifest("latest");
  ASSERT_OK(index);
  EXPECT_EQ(index->media_type, media_type::kOciIndex);
  EXPECT_EQ(index->digest, *pushed);
  auto json = Json(index->body);
  ASSERT_EQ(json["manifests"].size(), 2U);
  std::vector<std::string> arches;
  for (const auto& d : json["manifests"]) {
    arches.push_back(d["platform"]["architecture"].get<std::string>());
    auto child = client->GetManifest(d["digest"].get<std::string>());
    ASSERT_OK(child);
    EXPECT_EQ(child->media_type, media_type::kOciManifest);
    EXPECT_NE(child->body.find("tar+zstd"), std::string::npos) << child->body;
  }
  EXPECT_EQ(arches, (std::vector<std::string>{"amd64", "arm64"}));
}

TEST_F(ClientTest, ConfigBlobIsVerifiedAndBounded) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  ASSERT_OK(testing::PushImage(*server, "test/small", "v1", testing::SmallImageSpec("arm64")));
  auto client = Client(*server, "test/small", Options());
  ASSERT_TRUE(client);
  auto manifest = client->GetManifest("v1");
  ASSERT_OK(manifest);
  auto config_digest = Digest::Parse(Json(manifest->body)["config"]["digest"].get<std::string>());
  ASSERT_OK(config_digest);

  auto config = client->GetBlob(*config_digest, kMaxConfigBytes);
  ASSERT_OK(config);
  EXPECT_EQ(Digest::Sha256Of(*config), *config_digest);
  EXPECT_EQ(Json(*config)["architecture"], "arm64");

  auto too_small = client->GetBlob(*config_digest, 10);
  ASSERT_FALSE(too_small);
  EXPECT_EQ(too_small.error().code(), EFBIG) << too_small.error().ToString();

  auto missing = client->GetBlob(Digest::Sha256Of("not there"), 1024);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT) << missing.error().ToString();
}

TEST_F(ClientTest, UnknownManifestIsNotFound) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  ASSERT_OK(testing::PushImage(*server, "test/small", "v1", testing::SmallImageSpec()));
  auto client = Client(*server, "test/small", Options());
  ASSERT_TRUE(client);
  auto manifest = client->GetManifest("nope");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), ENOENT);
  EXPECT_NE(manifest.error().ToString().find("manifest unknown: " + server->host_port() +
                                             "/test/small:nope"),
            std::string::npos)
      << manifest.error().ToString();
  EXPECT_FALSE(client->GetManifest("bad tag!"));
}

TEST_F(ClientTest, ConnectionRefusedNamesTheUrl) {
  auto port = testing::FreeLoopbackPort();
  ASSERT_OK(port);
  std::string registry = "127.0.0.1:" + std::to_string(*port);
  auto client = RegistryClient::Create(registry, "x/y", Options());
  ASSERT_OK(client);
  auto manifest = (*client)->GetManifest("latest");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), ECONNREFUSED);
  EXPECT_NE(manifest.error().ToString().find(registry + "/v2/"), std::string::npos)
      << manifest.error().ToString();
  EXPECT_NE(manifest.error().ToString().find("connection refused"), std::string::npos)
      << manifest.error().ToString();
}

}  // namespace
}  // namespace comet::image::registry
