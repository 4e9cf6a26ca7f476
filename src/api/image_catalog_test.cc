// Tests of ImageCatalog over a real image store (images registered with Store::AddImage from
// hand-made blobs): fields, one Image per name, detail, every filter field, Inspect lookups,
// and that reading takes no lock and creates nothing.
#include "api/image_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/image_filter.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::api {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

struct StoredImage {
  image::Digest manifest;
  std::string manifest_json;
};

// Registers a one-layer image (the layer's bytes matter to no one here) under `names`.
StoredImage AddImage(const image::Store& store, const std::string& seed,
                     const std::vector<std::string>& names,
                     const std::map<std::string, std::string>& labels,
                     const std::map<std::string, std::string>& annotations) {
  const std::string layer = "layer of " + seed;
  const image::Digest layer_digest = store.PutBlob(layer).value();
  image::ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.config.labels = labels;
  config.diff_ids = {layer_digest};
  const std::string config_json = image::SerializeImageConfig(config);
  image::Manifest manifest;
  manifest.media_type = std::string(image::media_type::kOciManifest);
  manifest.config.media_type = std::string(image::media_type::kOciConfig);
  manifest.config.digest = store.PutBlob(config_json).value();
  manifest.config.size = static_cast<int64_t>(config_json.size());
  image::Descriptor layer_descriptor;
  layer_descriptor.media_type = std::string(image::media_type::kOciLayer);
  layer_descriptor.digest = layer_digest;
  layer_descriptor.size = static_cast<int64_t>(layer.size());
  manifest.layers = {layer_descriptor};
  manifest.annotations = annotations;
  StoredImage stored;
  stored.manifest_json = image::SerializeManifest(manifest);
  stored.manifest = store.PutBlob(stored.manifest_json).value();
  image::AddImageOptions options;
  for (const std::string& name : names) {
    options.names.push_back(image::ParseReference(name).value());
  }
  EXPECT_TRUE(store.AddImage(stored.manifest, options));
  return stored;
}

class ImageCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = os::JoinPath(dir_.path(), "images");
    image::StoreOptions options;
    options.root = root_;
    store_ = std::make_unique<image::Store>(image::Store::Open(options).value());
    const int64_t before = Now();
    app_ = AddImage(*store_, "app", {"localhost:5000/team/app:1", "localhost:5000/team/app:latest"},
                    {{"maintainer", "a"}, {"tier", "web"}}, {{"org.example/x", "1"}});
    busybox_ = AddImage(*store_, "busybox", {"busybox"}, {{"tier", "base"}}, {});
    nameless_ = AddImage(*store_, "nameless", {}, {}, {});
    imported_ = Now();
    EXPECT_LE(before, imported_);
    catalog_ = std::move(ImageCatalog::Open(root_).value());
  }

  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::vector<std::string> FullNames(const std::function<void(v1alpha::ImageFilter&)>& fill) {
    ImageFilters filters;
    fill(*filters.Add());
    auto images = catalog_->List(filters, false);
    EXPECT_TRUE(images) << images.error().ToString();
    std::vector<std::string> names;
    for (const v1alpha::Image& image : images.value_or(std::vector<v1alpha::Image>{})) {
      names.push_back(image.name().empty() ? image.id() : FullName(image));
    }
    return names;
  }

  os::TempDir dir_ = std::move(os::TempDir::Create("comet-api-img-").value());
  std::string root_;
  std::unique_ptr<image::Store> store_;
  std::unique_ptr<ImageCatalog> catalog_;
  StoredImage app_;
  StoredImage busybox_;
  StoredImage nameless_;
  int64_t imported_ = 0;
};

TEST_F(ImageCatalogTest, Fields) {
  auto images = catalog_->List({}, /*detail=*/true);
  ASSERT_TRUE(images) << images.error().ToString();
  ASSERT_EQ(images->size(), 3u);  // one per image: two names, one name, nameless
  const v1alpha::Image& app = images->at(0);
  EXPECT_EQ(app.id(), app_.manifest.ToString());
  EXPECT_EQ(app.name(), "localhost:5000/team/app");  // its first name
  EXPECT_EQ(app.version(), "1");
  EXPECT_EQ(app.base_format().type(), v1alpha::IMAGE_TYPE_OCI);
  EXPECT_EQ(app.base_format().version(), "1.0.0");
  EXPECT_GT(app.import_timestamp(), 1'700'000'000);  // seconds, not nanoseconds
  EXPECT_LE(app.import_timestamp(), imported_);
  EXPECT_GT(app.size(), static_cast<int64_t>(app_.manifest_json.size()));
  // The manifest as rkt's clients decode it: appc's ImageManifest.
  const nlohmann::json appc = nlohmann::json::parse(app.manifest(), nullptr, false);
  ASSERT_TRUE(appc.is_object()) << app.manifest();
  EXPECT_EQ(appc.value("acKind", ""), "ImageManifest");
  EXPECT_EQ(appc.value("name", ""), "localhost_5000/team/app");
  // The config's labels, then the tag as rkt's `version` label.
  ASSERT_EQ(app.labels_size(), 3);
  EXPECT_EQ(app.labels(0).key(), "maintainer");
  EXPECT_EQ(app.labels(1).key(), "tier");
  EXPECT_EQ(app.labels(1).value(), "web");
  EXPECT_EQ(app.labels(2).key(), "version");
  EXPECT_EQ(app.labels(2).value(), "1");
  ASSERT_EQ(app.annotations_size(), 1);
  EXPECT_EQ(app.annotations(0).key(), "org.example/x");
  EXPECT_EQ(images->at(1).name(), "docker.io/library/busybox");
  const v1alpha::Image& nameless = images->at(2);
  EXPECT_EQ(nameless.id(), nameless_.manifest.ToString());
  EXPECT_TRUE(nameless.name().empty());

  auto plain = catalog_->List({}, /*detail=*/false);
  ASSERT_TRUE(plain);
  for (const v1alpha::Image& image : *plain) {
    EXPECT_TRUE(image.manifest().empty());
    EXPECT_FALSE(image.id().empty());
  }
}

TEST_F(ImageCatalogTest, Filters) {
  const std::string app_id = app_.manifest.ToString();
  EXPECT_THAT(FullNames([&](auto& f) { f.add_ids(app_id); }),
              ElementsAre("localhost:5000/team/app:1"));
  // Exact ids, as rkt's filter (image_filter.h); a prefix is InspectImage's business.
  EXPECT_EQ(FullNames([&](auto& f) { f.add_ids(app_id.substr(0, 12)); }).size(), 0u);
  EXPECT_EQ(FullNames([&](auto& f) { f.add_ids(app_.manifest.hex().substr(0, 5)); }).size(), 0u);
  EXPECT_THAT(FullNames([&](auto& f) { f.add_prefixes("docker.io/"); }),
              ElementsAre("docker.io/library/busybox:latest"));
  EXPECT_THAT(FullNames([&](auto& f) { f.add_base_names("busybox"); }),
              ElementsAre("docker.io/library/busybox:latest"));
  EXPECT_EQ(FullNames([&](auto& f) { f.add_base_names("team/app"); }).size(), 1u);
  EXPECT_EQ(FullNames([&](auto& f) { f.add_base_names("localhost:5000/team/app"); }).size(), 0u);
  EXPECT_EQ(FullNames([&](auto& f) { f.add_keywords("eam/a"); }).size(), 1u);
  EXPECT_THAT(FullNames([&](auto& f) { f.add_full_names("localhost:5000/team/app:latest"); }),
              ElementsAre("localhost:5000/team/app:latest"));
  EXPECT_THAT(FullNames([&](auto& f) {
                v1alpha::KeyValue* kv = f.add_labels();
                kv->set_key("tier");
                kv->set_value("base");
              }),
              ElementsAre("docker.io/library/busybox:latest"));
  EXPECT_EQ(FullNames([&](auto& f) {
              for (auto [key, value] : {std::pair{"tier", "web"}, std::pair{"maintainer", "b"}}) {
                v1alpha::KeyValue* kv = f.add_labels();
                kv->set_key(key);
                kv->set_value(value);
              }
            }).size(),
            0u);  // all labels must be there
  EXPECT_EQ(FullNames([&](auto& f) {
              v1alpha::KeyValue* kv = f.add_annotations();
              kv->set_key("org.example/x");
              kv->set_value("1");
            }).size(),
            1u);
  EXPECT_EQ(FullNames([&](auto& f) { f.set_imported_after(imported_ + 1); }).size(), 0u);
  EXPECT_EQ(FullNames([&](auto& f) { f.set_imported_before(imported_ + 1); }).size(), 3u);
  EXPECT_EQ(FullNames([&](auto& f) { f.set_imported_after(imported_ - 3600); }).size(), 3u);
  // AND within a filter, OR across filters.
  EXPECT_EQ(FullNames([&](auto& f) {
              f.add_keywords("app");
              f.add_full_names("docker.io/library/busybox:latest");
            }).size(),
            0u);
  // The kubelet's query (rktnetes): Keywords the repository, Labels version=tag.
  EXPECT_THAT(FullNames([&](auto& f) {
                f.add_keywords("team/app");
                v1alpha::KeyValue* kv = f.add_labels();
                kv->set_key("version");
                kv->set_value("latest");
              }),
              ElementsAre("localhost:5000/team/app:latest"));
  // rkt's full names carry no version.
  EXPECT_THAT(FullNames([&](auto& f) { f.add_full_names("docker.io/library/busybox"); }),
              ElementsAre("docker.io/library/busybox:latest"));
  ImageFilters too_many;
  for (int i = 0; i < 1025; ++i) {
    too_many.Add()->add_keywords("x");
  }
  auto refused = catalog_->List(too_many, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), EINVAL);
  ImageFilters two;
  two.Add()->add_base_names("busybox");
  two.Add()->add_full_names("localhost:5000/team/app:1");
  auto images = catalog_->List(two, false);
  ASSERT_TRUE(images);
  EXPECT_EQ(images->size(), 2u);
}

TEST_F(ImageCatalogTest, Inspect) {
  auto by_id = catalog_->Inspect(busybox_.manifest.ToString());
  ASSERT_TRUE(by_id) << by_id.error().ToString();
  EXPECT_EQ(by_id->name(), "docker.io/library/busybox");
  // With detail: an appc ImageManifest, as rkt's clients decode it.
  const nlohmann::json appc = nlohmann::json::parse(by_id->manifest(), nullptr, false);
  ASSERT_TRUE(appc.is_object()) << by_id->manifest();
  EXPECT_EQ(appc.value("acKind", ""), "ImageManifest");
  EXPECT_EQ(appc.value("name", ""), "docker.io/library/busybox");
  auto by_prefix = catalog_->Inspect(app_.manifest.hex().substr(0, 10));
  ASSERT_TRUE(by_prefix);
  EXPECT_EQ(by_prefix->id(), app_.manifest.ToString());
  auto by_name = catalog_->Inspect("localhost:5000/team/app:latest");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->version(), "latest");
  auto by_short_name = catalog_->Inspect("busybox");
  ASSERT_TRUE(by_short_name);
  EXPECT_EQ(by_short_name->id(), busybox_.manifest.ToString());
  auto missing = catalog_->Inspect("sha256:" + std::string(64, '0'));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_FALSE(catalog_->Inspect("nosuchimage"));
}

TEST_F(ImageCatalogTest, ReadsWithoutTheLockFile) {
  // A reader may not even be able to open the lock file (O_RDWR): remove it and check that
  // listing neither needs nor recreates it.
  ASSERT_EQ(::unlink(os::JoinPath(root_, "lock").c_str()), 0);
  auto images = catalog_->List({}, true);
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_EQ(images->size(), 3u);
  EXPECT_FALSE(os::Exists(os::JoinPath(root_, "lock")));
}

TEST_F(ImageCatalogTest, FollowsTheStore) {
  // Past the racy window, so that the cached list is trusted until the store changes.
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  ASSERT_TRUE(catalog_->List({}, true));
  ASSERT_EQ(catalog_->List({}, true)->size(), 3u);
  ASSERT_TRUE(store_->RemoveImage(busybox_.manifest.ToString()));
  ASSERT_TRUE(store_->Tag(app_.manifest.ToString(), image::ParseReference("x.io/y:2").value()));
  auto images = catalog_->List({}, false);
  ASSERT_TRUE(images);
  std::vector<std::string> names;
  for (const v1alpha::Image& image : *images) {
    names.push_back(FullName(image));
  }
  EXPECT_THAT(names, UnorderedElementsAre("localhost:5000/team/app:1", ""));
  EXPECT_THAT(FullNames([&](auto& f) { f.add_full_names("x.io/y:2"); }), ElementsAre("x.io/y:2"));
}

// rkt listed one Image per ACI; the kubelet's image stats sum `size` over ListImages, so an image
// with two names must count once. A filter matching its second name lists it under that name.
TEST_F(ImageCatalogTest, OneImagePerImageWhateverItsNames) {
  auto images = catalog_->List({}, false);
  ASSERT_TRUE(images) << images.error().ToString();
  std::vector<std::string> ids;
  int64_t total = 0;
  for (const v1alpha::Image& image : *images) {
    ids.push_back(image.id());
    total += image.size();
  }
  EXPECT_THAT(ids, ElementsAre(app_.manifest.ToString(), busybox_.manifest.ToString(),
                               nameless_.manifest.ToString()));
  auto records = store_->ListImages();
  ASSERT_TRUE(records) << records.error().ToString();
  int64_t stored = 0;
  for (const image::ImageRecord& record : *records) {
    stored += record.size;
  }
  EXPECT_EQ(total, stored);
  EXPECT_THAT(FullNames([&](auto& f) { f.add_full_names("localhost:5000/team/app:latest"); }),
              ElementsAre("localhost:5000/team/app:latest"));
  // Both names match: listed once, under the first.
  EXPECT_THAT(FullNames([&](auto& f) { f.add_prefixes("localhost:5000/team/app"); }),
              ElementsAre("localhost:5000/team/app:1"));
  ImageFilters both;
  both.Add()->add_full_names("localhost:5000/team/app:latest");
  both.Add()->add_full_names("localhost:5000/team/app:1");
  auto listed = catalog_->List(both, false);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).version(), "1");
}

TEST_F(ImageCatalogTest, AStoreNotMadeYetHasNoImagesAndIsNotCreated) {
  const std::string missing = os::JoinPath(dir_.path(), "nostore");
  auto catalog = ImageCatalog::Open(missing);
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  auto images = (*catalog)->List({}, /*detail=*/false);
  ASSERT_TRUE(images) << images.error().ToString();
  EXPECT_TRUE(images->empty());
  EXPECT_FALSE((*catalog)->Inspect("busybox"));
  EXPECT_FALSE(os::Exists(missing));
}

TEST(ImageFilterTest, RepositoryOf) {
  EXPECT_EQ(RepositoryOf("docker.io/library/busybox"), "library/busybox");
  EXPECT_EQ(RepositoryOf("localhost/a"), "a");
  EXPECT_EQ(RepositoryOf("localhost:5000/a/b"), "a/b");
  EXPECT_EQ(RepositoryOf("org/app"), "org/app");
  EXPECT_EQ(RepositoryOf("app"), "app");
}

}  // namespace
}  // namespace comet::api
