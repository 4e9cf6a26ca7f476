// Tests for image configs: a real-shaped Docker config, an OCI one, round trips, and every type
// error naming its field.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/manifest.h"

namespace comet::image {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string D(char c) {
  return "sha256:" + std::string(64, c);
}

// As docker 20 writes it, including the fields comet ignores.
const std::string kDockerConfig = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "",
    "User": "nginx:nginx",
    "AttachStdin": false,
    "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
    "Tty": false,
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NGINX_VERSION=1.25.3"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "Image": ")" + D('9') + R"(",
    "Volumes": {"/var/cache/nginx": {}, "/data": null},
    "WorkingDir": "/srv",
    "OnBuild": null,
    "Labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
    "StopSignal": "SIGQUIT"
  },
  "container": "3d4e3a7fc7e3",
  "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD [\"nginx\"]"]},
  "created": "2023-11-01T12:34:56.789012345Z",
  "docker_version": "20.10.23",
  "history": [{"created": "2023-11-01T12:00:00Z", "created_by": "ADD file:abc in /"}],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": [")" +
                                  D('a') + R"(", ")" + D('b') + R"("]}
})";

const std::string kOciConfig = R"({
  "created": "2024-01-01T00:00:00Z",
  "author": "comet",
  "architecture": "arm",
  "variant": "v7",
  "os": "linux",
  "config": {"Cmd": ["sh"], "Entrypoint": null, "Labels": null, "Env": null},
  "rootfs": {"type": "layers", "diff_ids": []}
})";

TEST(ImageConfigTest, ParsesDockerConfig) {
  auto config = ParseImageConfig(kDockerConfig);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->architecture, "amd64");
  EXPECT_EQ(config->os, "linux");
  EXPECT_EQ(config->created, "2023-11-01T12:34:56.789012345Z");
  EXPECT_EQ(config->config.user, "nginx:nginx");
  EXPECT_THAT(config->config.env,
              ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "NGINX_VERSION=1.25.3"));
  EXPECT_THAT(config->config.entrypoint, ElementsAre("/docker-entrypoint.sh"));
  EXPECT_THAT(config->config.cmd, ElementsAre("nginx", "-g", "daemon off;"));
  EXPECT_EQ(config->config.working_dir, "/srv");
  EXPECT_THAT(config->config.labels,
              ElementsAre(Pair("maintainer", "NGINX Docker Maintainers <docker-maint@nginx.com>")));
  EXPECT_THAT(config->config.exposed_ports, ElementsAre("443/tcp", "80/tcp"));
  EXPECT_THAT(config->config.volumes, ElementsAre("/data", "/var/cache/nginx"));
  EXPECT_EQ(config->config.stop_signal, "SIGQUIT");
  ASSERT_EQ(config->diff_ids.size(), 2U);
  EXPECT_EQ(config->diff_ids[0].ToString(), D('a'));
  EXPECT_EQ(config->diff_ids[1].ToString(), D('b'));
}

TEST(ImageConfigTest, ParsesOciConfigWithNulls) {
  auto config = ParseImageConfig(kOciConfig);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->author, "comet");
  EXPECT_EQ(config->variant, "v7");
  EXPECT_THAT(config->config.cmd, ElementsAre("sh"));
  EXPECT_THAT(config->config.entrypoint, IsEmpty());
  EXPECT_THAT(config->config.labels, IsEmpty());
  EXPECT_THAT(config->diff_ids, IsEmpty());
}

TEST(ImageConfigTest, RoundTrips) {
  for (const std::string& text : {kDockerConfig, kOciConfig}) {
    auto config = ParseImageConfig(text);
    ASSERT_TRUE(config) << config.error().ToString();
    std::string json = SerializeImageConfig(*config);
    auto again = ParseImageConfig(json);
    ASSERT_TRUE(again) << again.error().ToString() << "\n" << json;
    EXPECT_EQ(*again, *config);
    EXPECT_EQ(SerializeImageConfig(*again), json);
  }
}

TEST(ImageConfigTest, SerializesCompleteOciConfig) {
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.config.exposed_ports = {"53/udp"};
  config.diff_ids = {Digest::Sha256Of("")};
  EXPECT_EQ(SerializeImageConfig(config),
            R"({"architecture":"amd64","os":"linux","config":{"ExposedPorts":{"53/udp":{}}},)"
            R"("rootfs":{"type":"layers","diff_ids":[")" +
                Digest::Sha256Of("").ToString() + R"("]}})");
  ImageConfig empty;
  EXPECT_EQ(SerializeImageConfig(empty),
            R"({"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}})");
}

std::string ConfigWith(const std::string& process, const std::string& rootfs) {
  return R"({"architecture": "amd64", "os": "linux", "config": )" + process + R"(, "rootfs": )" +
         rootfs + "}";
}

TEST(ImageConfigTest, RejectsBadConfigs) {
  const std::string rootfs = R"({"type": "layers", "diff_ids": []})";
  struct Case {
    std::string json;
    std::string error;
  };
  const Case cases[] = {
      {"[]", "invalid image config: expected a JSON object"},
      {"{", "invalid image config JSON"},
      {R"({"os": "linux", "rootfs": )" + rootfs + "}", "architecture: missing"},
      {R"({"architecture": "amd64", "rootfs": )" + rootfs + "}", "os: missing"},
      {R"({"architecture": 1, "os": "linux", "rootfs": )" + rootfs + "}",
       "architecture: expected string, got number"},
      {R"({"architecture": "amd64", "os": "linux", "created": 5, "rootfs": )" + rootfs + "}",
       "created: expected string, got number"},
      {ConfigWith("[]", rootfs), "config: expected object, got array"},
      {ConfigWith(R"({"User": 0})", rootfs), "config.User: expected string, got number"},
      {ConfigWith(R"({"Env": ["A=1", 2]})", rootfs), "config.Env[1]: expected string, got number"},
      {ConfigWith(R"({"Cmd": "sh"})", rootfs), "config.Cmd: expected array of strings"},
      {ConfigWith(R"({"Entrypoint": {}})", rootfs), "config.Entrypoint: expected array"},
      {ConfigWith(R"({"WorkingDir": []})", rootfs), "config.WorkingDir: expected string"},
      {ConfigWith(R"({"Labels": {"a": 1}})", rootfs), "config.Labels.a: expected string"},
      {ConfigWith(R"({"ExposedPorts": ["80/tcp"]})", rootfs),
       "config.ExposedPorts: expected object, got array"},
      {ConfigWith(R"({"ExposedPorts": {"80/tcp": "yes"}})", rootfs),
       "config.ExposedPorts.80/tcp: expected object, got string"},
      {ConfigWith(R"({"Volumes": {"/data": 1}})", rootfs),
       "config.Volumes./data: expected object, got number"},
      {ConfigWith(R"({"StopSignal": 9})", rootfs), "config.StopSignal: expected string"},
      {R"({"architecture": "amd64", "os": "linux"})", "rootfs: missing"},
      {ConfigWith("{}", "[]"), "rootfs: expected object, got array"},
      {ConfigWith("{}", R"({"diff_ids": []})"), "rootfs.type: missing"},
      {ConfigWith("{}", R"({"type": "tarball", "diff_ids": []})"),
       R"(rootfs.type: "tarball" is not "layers")"},
      {ConfigWith("{}", R"({"type": "layers"})"), "rootfs.diff_ids: missing"},
      {ConfigWith("{}", R"({"type": "layers", "diff_ids": {}})"),
       "rootfs.diff_ids: expected array, got object"},
      {ConfigWith("{}", R"({"type": "layers", "diff_ids": [")" + D('a') + R"(", 1]})"),
       "rootfs.diff_ids[1]: expected string, got number"},
      {ConfigWith("{}", R"({"type": "layers", "diff_ids": [")" + D('a') + R"(", "sha256:x"]})"),
       "rootfs.diff_ids[1]: invalid digest"},
  };
  for (const auto& c : cases) {
    auto config = ParseImageConfig(c.json);
    ASSERT_FALSE(config) << "accepted " << c.json;
    EXPECT_THAT(config.error().message(), HasSubstr(c.error)) << c.json;
  }
}

TEST(ImageConfigTest, Limits) {
  std::string diff_ids;
  for (size_t i = 0; i <= kMaxLayers; ++i) {
    diff_ids += (i == 0 ? "\"" : ",\"") + D('a') + "\"";
  }
  auto too_many =
      ParseImageConfig(ConfigWith("{}", R"({"type": "layers", "diff_ids": [)" + diff_ids + "]}"));
  ASSERT_FALSE(too_many);
  EXPECT_THAT(too_many.error().message(), HasSubstr("rootfs.diff_ids: 501 entries"));

  // Configs may be larger than manifests, up to their own limit.
  std::string big = kOciConfig;
  big.insert(big.size() - 1, std::string(kMaxManifestBytes, ' '));
  EXPECT_TRUE(ParseImageConfig(big));
  big.insert(big.size() - 1, std::string(kMaxConfigBytes, ' '));
  auto too_big = ParseImageConfig(big);
  ASSERT_FALSE(too_big);
  EXPECT_THAT(too_big.error().message(), HasSubstr("image config is"));
}

}  // namespace
}  // namespace comet::image
