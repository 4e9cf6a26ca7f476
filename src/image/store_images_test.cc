// Tests of images in the store: registering, finding (names, short names, IDs, digests),
// tagging, removal, leases refusing removal, and crash consistency of metadata vs index.json.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/store.h"
#include "image/store_internal.h"
#include "image/store_test_util.h"
#include "os/file.h"

namespace comet::image {
namespace {

using testing::MakeTestStore;
using testing::PutTestImage;

Reference Ref(std::string_view text) {
  return *ParseReference(text);
}

TEST(StoreImages, AddAndList) {
  auto t = MakeTestStore();
  const auto img = PutTestImage(t.store, "a", {"busybox", "localhost:5000/app:1"});
  auto images = t.store.ListImages();
  ASSERT_TRUE(images) << images.error().ToString();
  ASSERT_EQ(images->size(), 1U);
  const ImageRecord& r = (*images)[0];
  EXPECT_EQ(r.manifest_digest, img.manifest);
  EXPECT_EQ(r.config_digest, img.config);
  EXPECT_EQ(r.manifest_media_type, media_type::kOciManifest);
  EXPECT_EQ(r.names,
            (std::vector<std::string>{"docker.io/library/busybox:latest", "localhost:5000/app:1"}));
  EXPECT_EQ(r.platform.os, "linux");
  EXPECT_EQ(r.platform.architecture, "amd64");
  EXPECT_EQ(r.source, "test:a");
  EXPECT_GT(r.size, 0);
  EXPECT_NE(std::find(r.repo_digests.begin(), r.repo_digests.end(), img.manifest),
            r.repo_digests.end());

  // index.json: one descriptor per name, with the OCI ref.name annotation.
  const auto index =
      nlohmann::json::parse(*os::ReadFile(os::JoinPath(t.store.root(), "index.json")));
  ASSERT_EQ(index["manifests"].size(), 2U);
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "docker.io/library/busybox:latest");
  EXPECT_EQ(index["manifests"][0]["digest"], img.manifest.ToString());
}

TEST(StoreImages, AddRequiresAllBlobs) {
  auto t = MakeTestStore();
  const auto img = PutTestImage(t.store, "a", {}, /*register_it=*/false);
  ::chmod(t.store.BlobPath(img.layer).c_str(), 0644);
  ASSERT_EQ(::unlink(t.store.BlobPath(img.layer).c_str()), 0);
  auto added = t.store.AddImage(img.manifest, {});
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().ToString().find(img.layer.ToString()), std::string::npos);
  EXPECT_TRUE(t.store.ListImages()->empty());
}

TEST(StoreImages, NamelessImageIsListedOnce) {
  auto t = MakeTestStore();
  const auto img = PutTestImage(t.store, "a");
  auto images = t.store.ListImages();
  ASSERT_EQ(images->size(), 1U);
  EXPECT_TRUE((*images)[0].names.empty());
  const auto index =
      nlohmann::json::parse(*os::ReadFile(os::JoinPath(t.store.root(), "index.json")));
  ASSERT_EQ(index["manifests"].size(), 1U);
  EXPECT_FALSE(index["manifests"][0].contains("annotations"));
}

TEST(StoreImages, FindByNameShortNameIdDigest) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"busybox:1"});
  const auto b = PutTestImage(t.store, "b", {"quay.io/org/app:2"});
  auto find = [&](std::string_view what) { return t.store.FindImage(what); };
  EXPECT_EQ(find("busybox:1")->manifest_digest, a.manifest);
  EXPECT_EQ(find("docker.io/library/busybox:1")->manifest_digest, a.manifest);
  EXPECT_EQ(find("quay.io/org/app:2")->manifest_digest, b.manifest);
  EXPECT_EQ(find(a.manifest.ToString())->manifest_digest, a.manifest);
  EXPECT_EQ(find(b.config.ToString())->manifest_digest, b.manifest);
  EXPECT_EQ(find(a.config.hex().substr(0, 12))->manifest_digest, a.manifest);
  EXPECT_EQ(find("sha256:" + b.config.hex().substr(0, 8))->manifest_digest, b.manifest);
  EXPECT_EQ(find("busybox@" + a.manifest.ToString())->manifest_digest, a.manifest);
  EXPECT_EQ(find("quay.io/org/app@" + b.manifest.ToString())->manifest_digest, b.manifest);
  // name@digest only finds images named in that repository.
  auto other_repo = find("quay.io/org/app@" + a.manifest.ToString());
  ASSERT_FALSE(other_repo);
  EXPECT_EQ(other_repo.error().code(), ENOENT);
  EXPECT_NE(other_repo.error().ToString().find("quay.io/org/app@" + a.manifest.ToString()),
            std::string::npos)
      << other_repo.error().ToString();
  EXPECT_FALSE(find("alpine@" + b.config.ToString()));
  EXPECT_FALSE(find("docker.io/library/busybox@" + b.manifest.ToString()));
  auto missing = find("busybox:2");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_FALSE(find("busybox"));  // busybox:latest is not there
}

TEST(StoreImages, AmbiguousIdPrefixIsAnError) {
  auto t = MakeTestStore();
  // Two images whose IDs (config digests) share their first 3 hex digits.
  std::map<std::string, std::string> seen;  // prefix -> seed
  std::string prefix;
  for (int i = 0; prefix.empty() && i < 100000; ++i) {
    const std::string seed = std::to_string(i);
    const std::string p = Digest::Sha256Of(testing::TestConfigJson(seed)).hex().substr(0, 3);
    auto [it, fresh] = seen.emplace(p, seed);
    if (!fresh) {
      prefix = p;
      PutTestImage(t.store, it->second);
      seen[prefix] = PutTestImage(t.store, seed).config.hex();
    }
  }
  ASSERT_FALSE(prefix.empty());
  auto found = t.store.FindImage(prefix);
  ASSERT_FALSE(found);
  EXPECT_NE(found.error().ToString().find("ambiguous"), std::string::npos)
      << found.error().ToString();
  EXPECT_TRUE(t.store.FindImage(seen[prefix]));  // the full ID is unique
}

TEST(StoreImages, TagMovesANameUntagKeepsTheImage) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"app:1"});
  const auto b = PutTestImage(t.store, "b", {"app:2"});
  ASSERT_TRUE(t.store.Tag(b.manifest.ToString(), Ref("app:1")));
  EXPECT_EQ(t.store.FindImage("app:1")->manifest_digest, b.manifest);
  EXPECT_TRUE(t.store.FindImage(a.manifest.ToString())->names.empty());
  EXPECT_FALSE(t.store.Tag("app:2", Ref("app@" + a.manifest.ToString())));
  ASSERT_TRUE(t.store.Untag(Ref("app:1")));
  EXPECT_FALSE(t.store.FindImage("app:1"));
  EXPECT_EQ(t.store.FindImage("app:2")->manifest_digest, b.manifest);
  EXPECT_FALSE(t.store.Untag(Ref("app:1")));
  EXPECT_EQ(t.store.ListImages()->size(), 2U);
}

TEST(StoreImages, AddImageMovesNames) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"app:1"});
  const auto b = PutTestImage(t.store, "b", {"app:1"});
  EXPECT_EQ(t.store.FindImage("app:1")->manifest_digest, b.manifest);
  EXPECT_TRUE(t.store.FindImage(a.config.ToString()));  // a stays, nameless
}

TEST(StoreImages, RemoveImageSweepsWhatOnlyItUsed) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"app:1", "app:latest"});
  const auto b = PutTestImage(t.store, "b", {"other"});
  testing::EnsureTestLayer(t.store, a);
  testing::EnsureTestLayer(t.store, b);
  ASSERT_TRUE(t.store.RemoveImage("app:1"));
  EXPECT_FALSE(t.store.FindImage("app:latest"));
  EXPECT_FALSE(t.store.HasBlob(a.manifest));
  EXPECT_FALSE(t.store.HasBlob(a.config));
  EXPECT_FALSE(t.store.HasBlob(a.layer));
  EXPECT_FALSE(t.store.HasLayer(a.layer));
  EXPECT_FALSE(os::Exists(os::JoinPath(t.store.root(), "images/" + a.manifest.hex() + ".json")));
  EXPECT_TRUE(t.store.HasBlob(b.layer));
  EXPECT_TRUE(t.store.HasLayer(b.layer));
  EXPECT_TRUE(std::filesystem::is_empty(os::JoinPath(t.store.root(), "layers/tmp")));
  EXPECT_FALSE(t.store.RemoveImage("app:1"));
}

TEST(StoreImages, RemoveRefusesLeasedImages) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"app:1"});
  auto lease = t.store.AcquireLease("pod-1234");
  ASSERT_TRUE(lease) << lease.error().ToString();
  ASSERT_TRUE(lease->Add({a.manifest}));
  auto removed = t.store.RemoveImage("app:1");
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().ToString().find("in use by pod pod-1234"), std::string::npos)
      << removed.error().ToString();
  ASSERT_TRUE(t.store.ReleaseLease("pod-1234"));
  EXPECT_TRUE(t.store.RemoveImage("app:1"));
}

TEST(StoreImages, LeaseNamesAreValidated) {
  auto t = MakeTestStore();
  for (const char* bad : {"", "../x", "a/b", ".hidden", "tmp-x", "sp ace"}) {
    EXPECT_FALSE(t.store.AcquireLease(bad)) << bad;
  }
  EXPECT_TRUE(t.store.AcquireLease("Pod_1.a-b"));
}

TEST(StoreImages, ReadManifestConfigAndLayerPaths) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {"app"});
  const ImageRecord image = *t.store.FindImage("app");
  EXPECT_EQ(t.store.ReadManifest(image)->layers.at(0).digest, a.layer);
  EXPECT_EQ(t.store.ReadConfig(image)->diff_ids.at(0), a.layer);
  EXPECT_FALSE(t.store.LayerPaths(image));  // not unpacked yet
  testing::EnsureTestLayer(t.store, a);
  EXPECT_EQ(*t.store.LayerPaths(image), std::vector<std::string>{t.store.LayerPath(a.layer)});
}

TEST(StoreImages, MarkUsedUpdatesLastUsed) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a");
  // Used an hour ago: marking it moves last_used to now.
  auto record = store_internal::ReadMetadata(t.store.root(), a.manifest);
  ASSERT_TRUE(record);
  record->last_used -= std::chrono::hours(1);
  ASSERT_TRUE(store_internal::WriteMetadata(t.store.root(), *record));
  const auto before = t.store.FindImage(a.manifest.ToString())->last_used;
  ASSERT_TRUE(t.store.MarkUsed(a.manifest));
  const auto after = t.store.FindImage(a.manifest.ToString())->last_used;
  EXPECT_GT(after, before + std::chrono::minutes(59));
  // Used again within the minute: the record is not rewritten (no fsync per pod start).
  ASSERT_TRUE(t.store.MarkUsed(a.manifest));
  EXPECT_EQ(t.store.FindImage(a.manifest.ToString())->last_used, after);
  EXPECT_FALSE(t.store.MarkUsed(Digest::Sha256Of("nope")));
}

// A crash after images/<hex>.json was written and before index.json named the image.
TEST(StoreImages, CrashBetweenMetadataAndIndexLeavesNoImage) {
  auto t = MakeTestStore();
  const auto a = PutTestImage(t.store, "a", {}, /*register_it=*/false);
  const ImageRecord record{.manifest_digest = a.manifest,
                           .config_digest = a.config,
                           .manifest_media_type = std::string(media_type::kOciManifest),
                           .names = {},
                           .repo_digests = {a.manifest},
                           .platform = {},
                           .size = 1,
                           .imported = Clock::now(),
                           .last_used = Clock::now(),
                           .source = {}};
  ASSERT_TRUE(store_internal::WriteMetadata(t.store.root(), record));
  EXPECT_TRUE(t.store.ListImages()->empty());
  EXPECT_FALSE(t.store.FindImage(a.manifest.ToString()));
  auto report =
      t.store.GarbageCollect(GcOptions{.grace_period = std::chrono::seconds(0), .dry_run = false});
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(os::Exists(os::JoinPath(t.store.root(), "images/" + a.manifest.hex() + ".json")));
  EXPECT_FALSE(t.store.HasBlob(a.manifest));
  EXPECT_EQ(report->removed_blobs, 3U);
}

}  // namespace
}  // namespace comet::image
