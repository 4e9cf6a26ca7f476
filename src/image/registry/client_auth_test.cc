// RegistryClient authentication and transport security against a real docker-registry:
// htpasswd basic auth, bearer tokens from token_server.py, TLS with a certs.d CA, and the
// plain-HTTP rule for non-loopback names.
#include <gtest/gtest.h>

#include "image/registry/client.h"
#include "image/registry/client_test_fixture.h"
#include "image/registry/endpoint.h"
#include "image/registry/http.h"

namespace comet::image::registry {
namespace {

const std::pair<std::string, std::string> kAlice = {"alice", "s3cret-pass"};

std::string ErrorText(const Result<FetchedManifest>& result) {
  return result ? std::string("<ok>") : result.error().ToString();
}

TEST_F(ClientTest, BasicAuth) {
  RegistryServerOptions server_options;
  server_options.users = {kAlice};
  auto server = StartServer(server_options);
  ASSERT_TRUE(server);
  ASSERT_OK(testing::PushImage(*server, "priv/app", "v1", testing::SmallImageSpec()));

  RegistryOptions good = Options();
  good.credentials = Credentials{kAlice.first, kAlice.second};
  auto client = Client(*server, "priv/app", good);
  ASSERT_TRUE(client);
  ASSERT_OK(client->GetManifest("v1"));

  auto anonymous = Client(*server, "priv/app", Options())->GetManifest("v1");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), EACCES);
  EXPECT_NE(ErrorText(anonymous).find("authentication required for " + server->host_port()),
            std::string::npos)
      << ErrorText(anonymous);

  RegistryOptions bad = Options();
  bad.credentials = Credentials{kAlice.first, "wrong"};
  auto wrong = Client(*server, "priv/app", bad)->GetManifest("v1");
  ASSERT_FALSE(wrong);
  EXPECT_NE(ErrorText(wrong).find("invalid username or password"), std::string::npos)
      << ErrorText(wrong);
  EXPECT_EQ(ErrorText(wrong).find("wrong"), std::string::npos) << "the password leaked";
}

TEST_F(ClientTest, BasicAuthFromAuthFile) {
  RegistryServerOptions server_options;
  server_options.users = {kAlice};
  auto server = StartServer(server_options);
  ASSERT_TRUE(server);
  ASSERT_OK(testing::PushImage(*server, "priv/app", "v1", testing::SmallImageSpec()));

  std::string auth = os::JoinPath(tmp_->path(), "auth.json");
  std::string encoded = Base64Encode(kAlice.first + ":" + kAlice.second);
  ASSERT_OK(os::WriteFile(
      auth, R"({"auths":{"https://)" + server->host_port() + R"(":{"auth":")" + encoded + "\"}}}"));
  RegistryOptions options = Options();
  options.auth_file = auth;
  auto client = Client(*server, "priv/app", options);
  ASSERT_TRUE(client);
  ASSERT_OK(client->GetManifest("v1"));
}

TEST_F(ClientTest, BearerTokenAuth) {
  RegistryServerOptions server_options;
  server_options.users = {kAlice};
  server_options.token_auth = true;
  auto server = StartServer(server_options);
  ASSERT_TRUE(server);
  auto pushed = testing::PushImage(*server, "tok/app", "v1", testing::BigImageSpec(1, 1));
  ASSERT_OK(pushed);

  RegistryOptions good = Options();
  good.credentials = Credentials{kAlice.first, kAlice.second};
  auto client = Client(*server, "tok/app", good);
  ASSERT_TRUE(client);
  auto manifest = client->GetManifest("v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, *pushed);
  // The cached token serves the blob requests too.
  auto layer = Digest::Parse(Json(manifest->body)["layers"][0]["digest"].get<std::string>());
  ASSERT_OK(layer);
  uint64_t size = 0;
  auto fetched = client->StreamBlob(
      *layer, 0, [] { return Ok(); },
      [&size](std::string_view chunk) {
        size += chunk.size();
        return Ok();
      },
      {});
  ASSERT_OK(fetched);
  EXPECT_GT(size, 1U << 20U);

  auto anonymous = Client(*server, "tok/app", Options())->GetManifest("v1");
  ASSERT_FALSE(anonymous);
  EXPECT_NE(ErrorText(anonymous).find("authentication required for " + server->host_port()),
            std::string::npos)
      << ErrorText(anonymous);

  RegistryOptions bad = Options();
  bad.credentials = Credentials{kAlice.first, "wrong"};
  auto wrong = Client(*server, "tok/app", bad)->GetManifest("v1");
  ASSERT_FALSE(wrong);
  EXPECT_NE(ErrorText(wrong).find("invalid username or password for " + server->host_port()),
            std::string::npos)
      << ErrorText(wrong);
}

TEST_F(ClientTest, AnonymousBearerToken) {
  RegistryServerOptions server_options;
  server_options.users = {kAlice};
  server_options.token_auth = true;
  server_options.anonymous_pull = true;
  auto server = StartServer(server_options);
  ASSERT_TRUE(server);
  auto pushed = testing::PushImage(*server, "pub/app", "v1", testing::SmallImageSpec());
  ASSERT_OK(pushed);
  auto manifest = Client(*server, "pub/app", Options())->GetManifest("v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, *pushed);
}

TEST_F(ClientTest, TlsWithCertsDir) {
  RegistryServerOptions server_options;
  server_options.tls = true;
  auto server = StartServer(server_options);
  ASSERT_TRUE(server);
  auto pushed = testing::PushImage(*server, "tls/app", "v1", testing::SmallImageSpec());
  ASSERT_OK(pushed);

  RegistryOptions with_ca = Options();
  with_ca.certs_dirs = {server->certs_dir()};
  auto manifest = Client(*server, "tls/app", with_ca)->GetManifest("v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, *pushed);

  auto without_ca = Client(*server, "tls/app", Options())->GetManifest("v1");
  ASSERT_FALSE(without_ca);
  EXPECT_EQ(without_ca.error().code(), kErrCertificate) << ErrorText(without_ca);
  EXPECT_NE(ErrorText(without_ca).find("certificate"), std::string::npos) << ErrorText(without_ca);
  EXPECT_NE(ErrorText(without_ca).find("ca.crt"), std::string::npos) << ErrorText(without_ca);

  RegistryOptions insecure = Options();
  insecure.insecure_registries = {server->host_port()};
  ASSERT_OK(Client(*server, "tls/app", insecure)->GetManifest("v1"));
}

TEST_F(ClientTest, PlainHttpOnlyForLoopbackAndInsecureNames) {
  auto server = StartServer();
  ASSERT_TRUE(server);
  ASSERT_OK(testing::PushImage(*server, "plain/app", "v1", testing::SmallImageSpec()));
  // "127.1" reaches 127.0.0.1 without DNS but is not a loopback registry name: https only.
  std::string name = "127.1:" + std::to_string(server->port());
  auto client = RegistryClient::Create(name, "plain/app", Options());
  ASSERT_OK(client);
  auto refused = (*client)->GetManifest("v1");
  ASSERT_FALSE(refused);
  EXPECT_NE(ErrorText(refused).find("TLS"), std::string::npos) << ErrorText(refused);

  RegistryOptions insecure = Options();
  insecure.insecure_registries = {name};
  auto allowed = RegistryClient::Create(name, "plain/app", insecure);
  ASSERT_OK(allowed);
  ASSERT_OK((*allowed)->GetManifest("v1"));
}

TEST(Endpoint, SchemesAndHosts) {
  using V = std::vector<std::string>;
  EXPECT_EQ(RegistrySchemes("quay.io", {}), V{"https"});
  EXPECT_EQ(RegistrySchemes("registry.example:5000", {}), V{"https"});
  EXPECT_EQ(RegistrySchemes("localhost:5000", {}), (V{"https", "http"}));
  EXPECT_EQ(RegistrySchemes("127.0.0.1:5000", {}), (V{"https", "http"}));
  EXPECT_EQ(RegistrySchemes("[::1]:5000", {}), (V{"https", "http"}));
  EXPECT_EQ(RegistrySchemes("registry.example:5000", {"registry.example:5000"}),
            (V{"https", "http"}));
  EXPECT_EQ(RegistrySchemes("registry.example", {"registry.example:5000"}), V{"https"});
  EXPECT_EQ(RegistryHost("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(RegistryHost("quay.io"), "quay.io");
}

}  // namespace
}  // namespace comet::image::registry
