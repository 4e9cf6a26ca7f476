// Unit tests of challenge parsing, base64 and credential lookup in auth files (the search list
// is driven through environment variables set by the test).
#include "image/registry/auth.h"

#include <stdlib.h>

#include <gtest/gtest.h>

#include "image/registry/client_test_fixture.h"

namespace comet::image::registry {
namespace {

TEST(Challenge, BearerAndBasic) {
  auto parsed = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.example/token",service="registry.example",)"
      R"(scope="repository:a/b:pull",error="invalid_token")");
  ASSERT_EQ(parsed.size(), 1U);
  EXPECT_EQ(parsed[0].scheme, "bearer");
  EXPECT_EQ(parsed[0].params["realm"], "https://auth.example/token");
  EXPECT_EQ(parsed[0].params["service"], "registry.example");
  EXPECT_EQ(parsed[0].params["scope"], "repository:a/b:pull");
  EXPECT_EQ(parsed[0].params["error"], "invalid_token");

  auto two = ParseWwwAuthenticate(R"(Basic realm="x \"y\"", Bearer realm=r,service = s)");
  ASSERT_EQ(two.size(), 2U);
  EXPECT_EQ(two[0].scheme, "basic");
  EXPECT_EQ(two[0].params["realm"], "x \"y\"");
  EXPECT_EQ(two[1].params["realm"], "r");
  EXPECT_EQ(two[1].params["service"], "s");
  EXPECT_TRUE(ParseWwwAuthenticate("").empty());
  EXPECT_EQ(ParseWwwAuthenticate("=,= ,").size(), 0U);
}

TEST(Base64, RoundTrip) {
  for (std::string text : {"", "a", "ab", "abc", "user:p@ss:word"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(text)), text);
  }
  EXPECT_EQ(Base64Encode("alice:secret"), "YWxpY2U6c2VjcmV0");
  EXPECT_FALSE(Base64Decode("not base64!"));
}

class CredentialsTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    home_ = os::JoinPath(tmp_->path(), "home");
    ASSERT_OK(os::MkdirAll(home_ + "/.docker"));
    // NOLINTBEGIN(concurrency-mt-unsafe): tests run single-threaded
    setenv("HOME", home_.c_str(), 1);
    setenv("XDG_RUNTIME_DIR", (tmp_->path() + "/run").c_str(), 1);
    unsetenv("REGISTRY_AUTH_FILE");
    unsetenv("DOCKER_CONFIG");
    // NOLINTEND(concurrency-mt-unsafe)
  }

  static std::string Auth(const std::string& key, const std::string& user_pass) {
    return R"({"auths":{")" + key + R"(":{"auth":")" + Base64Encode(user_pass) + "\"}}}";
  }

  static std::optional<Credentials> Lookup(std::string_view registry,
                                           const RegistryOptions& options = {}) {
    auto creds = LookupCredentials(registry, options);
    EXPECT_TRUE(creds) << creds.error().ToString();
    return creds ? *creds : std::nullopt;
  }

  std::string home_;
};

TEST_F(CredentialsTest, KeyForms) {
  std::string path = os::JoinPath(tmp_->path(), "auth.json");
  RegistryOptions options;
  options.auth_file = path;
  for (std::string key : {"quay.io", "https://quay.io", "http://quay.io/v1/", "quay.io/v2/"}) {
    ASSERT_OK(os::WriteFile(path, Auth(key, "u:p:q")));
    auto creds = Lookup("quay.io", options);
    ASSERT_TRUE(creds) << key;
    EXPECT_EQ(creds->username, "u");
    EXPECT_EQ(creds->password, "p:q");
    EXPECT_FALSE(Lookup("quay.io:5000", options)) << key;
  }
  ASSERT_OK(os::WriteFile(path, Auth("quay.io/org/repo", "u:p")));
  EXPECT_FALSE(Lookup("quay.io", options));

  ASSERT_OK(os::WriteFile(path, Auth("https://index.docker.io/v1/", "hub:pw")));
  auto hub = Lookup("docker.io", options);
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->username, "hub");

  ASSERT_OK(os::WriteFile(path, R"({"auths":{"r.io":{"identitytoken":"tok"}}})"));
  auto token = Lookup("r.io", options);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->username, "<token>");
  EXPECT_EQ(token->password, "tok");
}

TEST_F(CredentialsTest, MalformedFileNamesItWithoutItsContent) {
  std::string path = os::JoinPath(tmp_->path(), "auth.json");
  RegistryOptions options;
  options.auth_file = path;
  ASSERT_OK(os::WriteFile(path, R"({"auths":{"r.io":{"auth":"SECRETSTUFF)"));
  auto creds = LookupCredentials("r.io", options);
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().ToString().find(path), std::string::npos);
  EXPECT_EQ(creds.error().ToString().find("SECRETSTUFF"), std::string::npos);

  ASSERT_OK(os::WriteFile(path, R"({"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}})"));  // "nocolon"
  creds = LookupCredentials("r.io", options);
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().ToString().find(path), std::string::npos);
  EXPECT_EQ(creds.error().ToString().find("nocolon"), std::string::npos);

  options.auth_file = path + ".missing";
  EXPECT_FALSE(LookupCredentials("r.io", options));
}

TEST_F(CredentialsTest, SearchOrderAndExplicitCredentials) {
  EXPECT_FALSE(Lookup("r.io"));
  ASSERT_OK(os::WriteFile(home_ + "/.docker/config.json", Auth("r.io", "docker:1")));
  EXPECT_EQ(Lookup("r.io")->username, "docker");

  ASSERT_OK(os::MkdirAll(home_ + "/.config/containers"));
  ASSERT_OK(os::WriteFile(home_ + "/.config/containers/auth.json", Auth("r.io", "podman:1")));
  EXPECT_EQ(Lookup("r.io")->username, "podman");

  // An entry for another registry does not stop the search.
  std::string env_file = os::JoinPath(tmp_->path(), "env-auth.json");
  ASSERT_OK(os::WriteFile(env_file, Auth("other.io", "env:1")));
  setenv("REGISTRY_AUTH_FILE", env_file.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(Lookup("r.io")->username, "podman");
  ASSERT_OK(os::WriteFile(env_file, Auth("r.io", "env:1")));
  EXPECT_EQ(Lookup("r.io")->username, "env");

  RegistryOptions explicit_creds;
  explicit_creds.credentials = Credentials{"cli", "pw"};
  EXPECT_EQ(Lookup("r.io", explicit_creds)->username, "cli");
  unsetenv("REGISTRY_AUTH_FILE");  // NOLINT(concurrency-mt-unsafe)
}

}  // namespace
}  // namespace comet::image::registry
