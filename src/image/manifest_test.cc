// Tests for manifests, indexes and kind detection: real-shaped OCI and Docker documents, round
// trips, schema 1 rejection, limits, and every type error naming its field.
#include "image/manifest.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::image {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::string D(char c) {
  return "sha256:" + std::string(64, c);
}

// The error message of a failed result; a marker when it unexpectedly succeeded.
template <class T>
std::string ErrorOf(const Result<T>& result) {
  return result ? std::string("<succeeded>") : result.error().message();
}

// As buildkit pushes it.
const std::string kOciManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": ")" + D('a') + R"(",
    "size": 1469
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": ")" + D('b') + R"(",
      "size": 2818370
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
      "digest": ")" + D('c') + R"(",
      "size": 93,
      "annotations": {"org.opencontainers.image.title": "extra"}
    }
  ],
  "annotations": {
    "org.opencontainers.image.base.name": "docker.io/library/alpine:3.19",
    "org.opencontainers.image.created": "2024-01-27T00:00:00Z"
  },
  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1,
              "digest": ")" + D('d') +
                                 R"("},
  "artifactType": "application/example"
})";

// As docker 20 pushes it, with a Windows-style foreign layer.
const std::string kDockerManifest = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 7023,
      "digest": ")" + D('1') + R"("
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 32654,
         "digest": ")" + D('2') + R"("
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 16724,
         "digest": ")" + D('3') + R"(",
         "urls": ["https://example.com/layer.tar.gz"]
      }
   ]
})";

const std::string kDockerList =
    R"({
  "manifests": [
    {"digest": ")" +
    D('1') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "amd64", "os": "linux"}, "size": 527},
    {"digest": ")" +
    D('2') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}, "size": 527},
    {"digest": ")" +
    D('3') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}, "size": 527},
    {"digest": ")" +
    D('4') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.5329",
                  "os.features": ["win32k"]}, "size": 1125}
  ],
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "schemaVersion": 2
})";

TEST(ManifestTest, ParsesOciManifest) {
  auto manifest = ParseManifest(kOciManifest);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->schema_version, 2);
  EXPECT_EQ(manifest->media_type, media_type::kOciManifest);
  EXPECT_EQ(manifest->config.media_type, media_type::kOciConfig);
  EXPECT_EQ(manifest->config.digest.ToString(), D('a'));
  EXPECT_EQ(manifest->config.size, 1469);
  ASSERT_EQ(manifest->layers.size(), 2U);
  EXPECT_EQ(manifest->layers[0].media_type, media_type::kOciLayerGzip);
  EXPECT_EQ(manifest->layers[0].digest.ToString(), D('b'));
  EXPECT_EQ(manifest->layers[0].size, 2818370);
  EXPECT_THAT(manifest->layers[1].annotations,
              ElementsAre(Pair("org.opencontainers.image.title", "extra")));
  EXPECT_FALSE(manifest->layers[1].platform);
  EXPECT_EQ(manifest->annotations.size(), 2U);
  EXPECT_EQ(manifest->annotations.at("org.opencontainers.image.base.name"),
            "docker.io/library/alpine:3.19");
}

TEST(ManifestTest, ParsesDockerManifest) {
  auto manifest = ParseManifest(kDockerManifest);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_EQ(manifest->media_type, media_type::kDockerManifest);
  EXPECT_EQ(manifest->config.media_type, media_type::kDockerConfig);
  ASSERT_EQ(manifest->layers.size(), 2U);
  EXPECT_EQ(manifest->layers[1].media_type, media_type::kDockerForeignLayerGzip);
  EXPECT_THAT(manifest->layers[1].urls, ElementsAre("https://example.com/layer.tar.gz"));
  EXPECT_TRUE(manifest->annotations.empty());
}

TEST(ManifestTest, OciManifestWithoutMediaTypeOrLayers) {
  auto manifest = ParseManifest(R"({"schemaVersion": 2, "layers": [], "config":
      {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 0,
       "digest": ")" + D('e') + R"("}})");
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_TRUE(manifest->media_type.empty());
  EXPECT_TRUE(manifest->layers.empty());
}

TEST(ManifestTest, ParsesIndexWithPlatforms) {
  auto index = ParseIndex(kDockerList);
  ASSERT_TRUE(index) << index.error().ToString();
  EXPECT_EQ(index->media_type, media_type::kDockerManifestList);
  ASSERT_EQ(index->manifests.size(), 4U);
  ASSERT_TRUE(index->manifests[1].platform);
  EXPECT_EQ(*index->manifests[1].platform, (Platform{.os = "linux",
                                                     .architecture = "arm",
                                                     .variant = "v7",
                                                     .os_version = {},
                                                     .os_features = {}}));
  const Platform& windows = *index->manifests[3].platform;
  EXPECT_EQ(windows.os_version, "10.0.17763.5329");
  EXPECT_THAT(windows.os_features, ElementsAre("win32k"));
  EXPECT_EQ(index->manifests[3].size, 1125);
}

TEST(ManifestTest, ImageLayoutIndexWithoutMediaType) {
  auto index = ParseIndex(R"({"schemaVersion": 2, "manifests": [{"mediaType":
      "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
                          D('f') + R"(", "size": 7,
      "annotations": {"org.opencontainers.image.ref.name": "latest"}}]})");
  ASSERT_TRUE(index) << index.error().ToString();
  EXPECT_TRUE(index->media_type.empty());
  EXPECT_FALSE(index->manifests[0].platform);
  EXPECT_EQ(index->manifests[0].annotations.at("org.opencontainers.image.ref.name"), "latest");
}

TEST(ManifestTest, ManifestRoundTrips) {
  for (const std::string& text : {kOciManifest, kDockerManifest}) {
    auto manifest = ParseManifest(text);
    ASSERT_TRUE(manifest) << manifest.error().ToString();
    std::string json = SerializeManifest(*manifest);
    auto again = ParseManifest(json);
    ASSERT_TRUE(again) << again.error().ToString() << "\n" << json;
    EXPECT_EQ(*again, *manifest);
    EXPECT_EQ(SerializeManifest(*again), json);
  }
}

TEST(ManifestTest, IndexRoundTrips) {
  auto index = ParseIndex(kDockerList);
  ASSERT_TRUE(index) << index.error().ToString();
  std::string json = SerializeIndex(*index);
  auto again = ParseIndex(json);
  ASSERT_TRUE(again) << again.error().ToString() << "\n" << json;
  EXPECT_EQ(*again, *index);
  EXPECT_EQ(SerializeIndex(*again), json);
}

TEST(ManifestTest, SerializesCompactOciFieldOrder) {
  Manifest manifest{
      .schema_version = 2,
      .media_type = std::string(media_type::kOciManifest),
      .config = {.media_type = std::string(media_type::kOciConfig),
                 .digest = Digest::Sha256Of("{}"),
                 .size = 2,
                 .urls = {},
                 .annotations = {},
                 .platform = std::nullopt},
      .layers = {},
      .annotations = {{"b", "2"}, {"a", "1"}},
  };
  EXPECT_EQ(SerializeManifest(manifest),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                Digest::Sha256Of("{}").ToString() +
                R"(","size":2},"layers":[],"annotations":{"a":"1","b":"2"}})");
}

TEST(ManifestTest, RejectsSchema1) {
  const std::string signed_schema1 = R"({"schemaVersion": 1, "name": "library/busybox",
      "tag": "latest", "architecture": "amd64", "fsLayers": [], "history": [],
      "signatures": []})";
  const std::string typed_schema1 =
      R"({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v1+json"})";
  const std::string prettyjws =
      R"({"mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"})";
  for (const std::string& text : {signed_schema1, typed_schema1, prettyjws}) {
    for (const std::string& error : {ErrorOf(ParseManifest(text)), ErrorOf(ParseIndex(text)),
                                     ErrorOf(DetectDocumentKind(text))}) {
      EXPECT_EQ(error, "docker schema 1 manifests are not supported") << text;
    }
  }
  auto by_hint = DetectDocumentKind(kDockerManifest,
                                    "application/vnd.docker.distribution.manifest.v1+prettyjws");
  ASSERT_FALSE(by_hint);
  EXPECT_THAT(by_hint.error().message(), HasSubstr("schema 1"));
}

struct BadDocument {
  std::string json;
  std::string error;  // a substring of the message
};

std::string ManifestWith(const std::string& config, const std::string& layers) {
  return R"({"schemaVersion": 2, "config": )" + config + R"(, "layers": )" + layers + "}";
}

std::string Desc(const std::string& extra) {
  return R"({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ")" + D('a') +
         R"(", "size": 1)" + extra + "}";
}

TEST(ManifestTest, RejectsBadManifests) {
  const std::string good = Desc("");
  const std::string layers3 = "[" + good + "," + good + "," +
                              R"({"mediaType": "x", "size": 1, "digest": "sha256:12"})" + "]";
  const BadDocument cases[] = {
      {"", "invalid manifest JSON at byte"},
      {"{", "invalid manifest JSON"},
      {"[]", "expected a JSON object, got array"},
      {std::string(40, '[') + std::string(40, ']'), "nesting deeper than"},
      {R"({"config": )" + good + R"(, "layers": []})", "schemaVersion: missing"},
      {R"({"schemaVersion": 3, "config": )" + good + R"(, "layers": []})",
       "schemaVersion: unsupported version 3"},
      {R"({"schemaVersion": "2"})", "schemaVersion: expected integer, got string"},
      {R"({"schemaVersion": 2.5})", "schemaVersion: expected integer, got number"},
      {R"({"schemaVersion": 2, "mediaType": 7})", "mediaType: expected string, got number"},
      {R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"})",
       "is not an image manifest type"},
      {R"({"schemaVersion": 2, "layers": []})", "config: missing"},
      {ManifestWith("[]", "[]"), "config: expected object, got array"},
      {ManifestWith(R"({"mediaType": "x", "size": 1})", "[]"), "config.digest: missing"},
      {ManifestWith(R"({"mediaType": "x", "size": 1, "digest": "sha256:abc"})", "[]"),
       "config.digest: invalid digest"},
      {ManifestWith(R"({"mediaType": "x", "size": 1, "digest": 5})", "[]"),
       "config.digest: expected string, got number"},
      {ManifestWith(R"({"size": 1, "digest": ")" + D('a') + "\"}", "[]"),
       "config.mediaType: missing"},
      {ManifestWith(R"({"mediaType": ["x"], "size": 1, "digest": ")" + D('a') + "\"}", "[]"),
       "config.mediaType: expected string, got array"},
      {ManifestWith(R"({"mediaType": "x", "digest": ")" + D('a') + "\"}", "[]"),
       "config.size: missing"},
      {ManifestWith(R"({"mediaType": "x", "size": -1, "digest": ")" + D('a') + "\"}", "[]"),
       "config.size: negative size -1"},
      {ManifestWith(R"({"mediaType": "x", "size": "1", "digest": ")" + D('a') + "\"}", "[]"),
       "config.size: expected integer, got string"},
      {ManifestWith(R"({"mediaType": "x", "size": 1.5, "digest": ")" + D('a') + "\"}", "[]"),
       "config.size: expected integer"},
      {ManifestWith(
           R"({"mediaType": "x", "size": 18446744073709551615, "digest": ")" + D('a') + "\"}",
           "[]"),
       "config.size: 18446744073709551615 is out of range"},
      {R"({"schemaVersion": 2, "config": )" + good + "}", "layers: missing"},
      {ManifestWith(good, "{}"), "layers: expected array, got object"},
      {ManifestWith(good, "[" + good + ", 3]"), "layers[1]: expected object, got number"},
      {ManifestWith(good, layers3), "layers[2].digest: invalid digest"},
      {ManifestWith(good, "[" + Desc(R"(, "urls": "x")") + "]"),
       "layers[0].urls: expected array of strings"},
      {ManifestWith(good, "[" + Desc(R"(, "urls": [1])") + "]"),
       "layers[0].urls[0]: expected string, got number"},
      {ManifestWith(good, "[" + Desc(R"(, "annotations": [])") + "]"),
       "layers[0].annotations: expected object of strings"},
      {ManifestWith(good, "[" + Desc(R"(, "annotations": {"k": 1})") + "]"),
       "layers[0].annotations.k: expected string, got number"},
      {ManifestWith(good, "[" + Desc(R"(, "platform": "linux")") + "]"),
       "layers[0].platform: expected object, got string"},
      {ManifestWith(good, "[" + Desc(R"(, "platform": {"os": "linux"})") + "]"),
       "layers[0].platform.architecture: missing"},
      {ManifestWith(good, "[" + Desc(R"(, "platform": {"architecture": "amd64"})") + "]"),
       "layers[0].platform.os: missing"},
      {ManifestWith(good, "[" + Desc(R"(, "platform": {"architecture": "amd64", "os": "linux",
                                          "os.features": "x"})") +
                              "]"),
       "layers[0].platform.os.features: expected array of strings"},
  };
  for (const auto& c : cases) {
    auto manifest = ParseManifest(c.json);
    ASSERT_FALSE(manifest) << "accepted " << c.json;
    EXPECT_THAT(manifest.error().message(), HasSubstr(c.error)) << c.json;
  }
}

TEST(ManifestTest, NullMeansAbsent) {
  auto manifest = ParseManifest(ManifestWith(Desc(R"(, "urls": null, "annotations": null)"),
                                             "[" + Desc(R"(, "platform": null)") + "]"));
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  EXPECT_TRUE(manifest->config.urls.empty());
  EXPECT_FALSE(manifest->layers[0].platform);
}

TEST(ManifestTest, LayerCountLimit) {
  std::string layers = "[";
  for (size_t i = 0; i < kMaxLayers; ++i) {
    layers += (i == 0 ? "" : ",") + Desc("");
  }
  auto at_limit = ParseManifest(ManifestWith(Desc(""), layers + "]"));
  ASSERT_TRUE(at_limit) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->layers.size(), kMaxLayers);
  auto over = ParseManifest(ManifestWith(Desc(""), layers + "," + Desc("") + "]"));
  ASSERT_FALSE(over);
  EXPECT_THAT(over.error().message(), HasSubstr("layers: 501 entries, more than the limit"));
}

TEST(ManifestTest, SizeLimit) {
  std::string padded = kOciManifest;
  padded.insert(padded.size() - 1, std::string(kMaxManifestBytes, ' '));
  for (const std::string& error : {ErrorOf(ParseManifest(padded)), ErrorOf(ParseIndex(padded)),
                                   ErrorOf(DetectDocumentKind(padded))}) {
    EXPECT_THAT(error, HasSubstr("more than the limit of 4194304"));
  }
}

TEST(ManifestTest, RejectsBadIndexes) {
  const BadDocument cases[] = {
      {R"({"schemaVersion": 2})", "manifests: missing"},
      {R"({"schemaVersion": 2, "manifests": {}})", "manifests: expected array, got object"},
      {R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "manifests": []})",
       "is not an image index type"},
      {R"({"schemaVersion": 2, "manifests": [)" + Desc(R"(, "platform": {"architecture": 64,
           "os": "linux"})") +
           "]}",
       "manifests[0].platform.architecture: expected string, got number"},
      {R"({"schemaVersion": 2, "manifests": [)" + Desc(R"(, "platform": {"architecture": "arm",
           "os": "linux", "variant": 7})") +
           "]}",
       "manifests[0].platform.variant: expected string, got number"},
      {R"({"schemaVersion": 2, "manifests": [)" + Desc(R"(, "size": -5)") + "]}",
       "manifests[0].size: negative size -5"},
      {R"({"schemaVersion": 2, "manifests": [], "annotations": {"a": false}})",
       "annotations.a: expected string, got boolean"},
  };
  for (const auto& c : cases) {
    auto index = ParseIndex(c.json);
    ASSERT_FALSE(index) << "accepted " << c.json;
    EXPECT_THAT(index.error().message(), HasSubstr(c.error)) << c.json;
  }
}

TEST(ManifestTest, ErrorPathsEscapeHostileKeys) {
  auto manifest = ParseManifest(ManifestWith(Desc(R"(, "annotations": {"a\nb\u0001": 1})"), "[]"));
  ASSERT_FALSE(manifest);
  EXPECT_THAT(manifest.error().message(), HasSubstr("config.annotations.a\\x0ab\\x01: expected"));
}

TEST(ManifestTest, DetectsDocumentKind) {
  const std::string bare_manifest = R"({"schemaVersion": 2, "config": {}, "layers": []})";
  const std::string bare_index = R"({"schemaVersion": 2, "manifests": []})";
  struct Case {
    std::string json;
    std::string hint;
    DocumentKind want;
  };
  const Case cases[] = {
      {kOciManifest, "", DocumentKind::kManifest},
      {kDockerManifest, "", DocumentKind::kManifest},
      {kDockerList, "", DocumentKind::kIndex},
      {bare_manifest, "", DocumentKind::kManifest},
      {bare_index, "", DocumentKind::kIndex},
      {bare_manifest, std::string(media_type::kOciManifest), DocumentKind::kManifest},
      {bare_manifest, std::string(media_type::kDockerManifest), DocumentKind::kManifest},
      {bare_index, std::string(media_type::kOciIndex), DocumentKind::kIndex},
      {bare_index, std::string(media_type::kDockerManifestList), DocumentKind::kIndex},
      {bare_index, std::string(media_type::kOciIndex) + "; charset=utf-8", DocumentKind::kIndex},
      // Generic content types say nothing; the body decides.
      {kDockerList, "application/json", DocumentKind::kIndex},
      {bare_manifest, "application/octet-stream", DocumentKind::kManifest},
      // The hint decides a body that says nothing.
      {"{}", std::string(media_type::kOciIndex), DocumentKind::kIndex},
  };
  for (const auto& c : cases) {
    auto kind = DetectDocumentKind(c.json, c.hint);
    ASSERT_TRUE(kind) << kind.error().ToString() << " for " << c.hint << " " << c.json;
    EXPECT_EQ(*kind, c.want) << c.hint << " " << c.json;
  }
}

TEST(ManifestTest, DetectRejectsAmbiguousDocuments) {
  auto neither = DetectDocumentKind(R"({"schemaVersion": 2})");
  ASSERT_FALSE(neither);
  EXPECT_THAT(neither.error().message(), HasSubstr("cannot tell"));
  auto both = DetectDocumentKind(R"({"manifests": [], "layers": []})");
  ASSERT_FALSE(both);
  auto mismatch = DetectDocumentKind(kDockerList, std::string(media_type::kOciManifest));
  ASSERT_FALSE(mismatch);
  EXPECT_THAT(mismatch.error().message(), HasSubstr("does not match mediaType"));
  auto invalid = DetectDocumentKind("not json", std::string(media_type::kOciManifest));
  ASSERT_FALSE(invalid);
  EXPECT_THAT(invalid.error().message(), HasSubstr("invalid manifest JSON"));
  auto bad_type = DetectDocumentKind(R"({"mediaType": 1, "layers": []})");
  ASSERT_FALSE(bad_type);
  EXPECT_THAT(bad_type.error().message(), HasSubstr("mediaType: expected string"));
}

TEST(ManifestTest, LayerCompression) {
  struct Case {
    std::string_view media_type;
    Compression want;
  };
  const Case cases[] = {
      {media_type::kOciLayer, Compression::kNone},
      {media_type::kOciLayerGzip, Compression::kGzip},
      {media_type::kOciLayerZstd, Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {media_type::kDockerLayerGzip, Compression::kGzip},
      {media_type::kDockerForeignLayerGzip, Compression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
  };
  for (const auto& c : cases) {
    auto compression = LayerCompression(c.media_type);
    ASSERT_TRUE(compression) << c.media_type;
    EXPECT_EQ(*compression, c.want) << c.media_type;
  }
  for (std::string_view bad : {media_type::kOciConfig, media_type::kOciManifest,
                               std::string_view("application/vnd.oci.image.layer.v1.tar+bzip2"),
                               std::string_view(""), std::string_view("text/plain")}) {
    auto compression = LayerCompression(bad);
    ASSERT_FALSE(compression) << bad;
    EXPECT_THAT(compression.error().message(),
                HasSubstr("unsupported layer media type \"" + std::string(bad) + "\""));
  }
}

}  // namespace
}  // namespace comet::image
