// Test images for the store's tests.
#include "image/store_test_util.h"

#include <cstring>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/file.h"

namespace comet::image::testing {
namespace {

void PutField(std::string& header, size_t offset, size_t width, std::string_view value) {
  header.replace(offset, std::min(width, value.size()), value.substr(0, width));
}

std::string Octal(uint64_t value, size_t width) {
  return fmt::format("{:0{}o}", value, width - 1);  // NUL-terminated field
}

}  // namespace

std::string OneFileTar(std::string_view name, std::string_view content) {
  std::string header(512, '\0');
  PutField(header, 0, 100, name);
  PutField(header, 100, 8, Octal(0644, 8));
  PutField(header, 108, 8, Octal(0, 8));
  PutField(header, 116, 8, Octal(0, 8));
  PutField(header, 124, 12, Octal(content.size(), 12));
  PutField(header, 136, 12, Octal(1700000000, 12));
  PutField(header, 148, 8, "        ");
  header[156] = '0';
  PutField(header, 257, 6, std::string_view("ustar\0", 6));
  PutField(header, 263, 2, "00");
  unsigned sum = 0;
  for (char c : header) {
    sum += static_cast<unsigned char>(c);
  }
  PutField(header, 148, 8, fmt::format("{:06o}", sum) + std::string(1, '\0') + " ");
  std::string tar = header;
  tar += content;
  tar.append((512 - content.size() % 512) % 512, '\0');
  tar.append(1024, '\0');
  return tar;
}

std::string TestLayerTar(std::string_view seed) {
  return OneFileTar("hello.txt", fmt::format("hello from {}\n", seed));
}

std::string TestConfigJson(std::string_view seed) {
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.config.cmd = {"/hello", std::string(seed)};
  config.diff_ids = {Digest::Sha256Of(TestLayerTar(seed))};
  return SerializeImageConfig(config);
}

TestImage PutTestImage(Store& store, std::string_view seed, const std::vector<std::string>& names,
                       bool register_it) {
  const std::string tar = TestLayerTar(seed);
  auto layer = store.PutBlob(tar);
  EXPECT_TRUE(layer) << layer.error().ToString();
  const std::string config_json = TestConfigJson(seed);
  auto config_digest = store.PutBlob(config_json);
  EXPECT_TRUE(config_digest) << config_digest.error().ToString();
  Manifest manifest{
      .schema_version = 2,
      .media_type = std::string(media_type::kOciManifest),
      .config = Descriptor{.media_type = std::string(media_type::kOciConfig),
                           .digest = *config_digest,
                           .size = static_cast<int64_t>(config_json.size()),
                           .urls = {},
                           .annotations = {},
                           .platform = std::nullopt},
      .layers = {Descriptor{.media_type = std::string(media_type::kOciLayer),
                            .digest = *layer,
                            .size = static_cast<int64_t>(tar.size()),
                            .urls = {},
                            .annotations = {},
                            .platform = std::nullopt}},
      .annotations = {},
  };
  auto manifest_digest = store.PutBlob(SerializeManifest(manifest));
  EXPECT_TRUE(manifest_digest) << manifest_digest.error().ToString();
  if (register_it) {
    AddImageOptions options;
    for (const std::string& name : names) {
      auto ref = ParseReference(name, store.reference_options());
      EXPECT_TRUE(ref) << ref.error().ToString();
      options.names.push_back(*ref);
    }
    options.source = "test:" + std::string(seed);
    auto added = store.AddImage(*manifest_digest, options);
    EXPECT_TRUE(added) << added.error().ToString();
  }
  return TestImage{
      .manifest = *manifest_digest, .config = *config_digest, .layer = *layer, .layer_tar = tar};
}

void EnsureTestLayer(Store& store, const TestImage& image) {
  auto st = store.EnsureLayer(image.layer, [&](const std::string& dir) -> Result<Digest> {
    RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "hello.txt"), "hello"));
    return image.layer;
  });
  ASSERT_TRUE(st) << st.error().ToString();
}

TestStore MakeTestStore() {
  auto dir = os::TempDir::Create("comet-store-test-");
  EXPECT_TRUE(dir);
  auto store =
      Store::Open(StoreOptions{.root = os::JoinPath(dir->path(), "store"), .reference = {}});
  EXPECT_TRUE(store) << store.error().ToString();
  return TestStore{.dir = std::move(*dir), .store = std::move(*store)};
}

}  // namespace comet::image::testing
