// Pull against a real docker-registry on 127.0.0.1 with images pushed by skopeo: tags and
// digests, OCI and Docker manifests, indexes, zstd, auth, interrupted and resumed downloads,
// concurrent pulls (threads and processes), tampered blobs. Needs docker-registry and skopeo.
#include "image/registry/pull.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/layer_trees.h"
#include "image/registry/http.h"
#include "image/registry/pull_layers.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/registry_server.h"
#include "testing/test_images.h"

namespace comet::image::registry {
namespace {

using ::testing::HasSubstr;
using testing::ImageSpec;
using testing::RegistryServer;
using testing::RegistryServerOptions;

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const auto& status_ = (expr);                                    \
    ASSERT_TRUE(status_) << status_.error().ToString(); /* NOLINT */ \
  } while (false)

// Thread-safe recorder of progress events.
class Events {
 public:
  PullProgressFn Fn() {
    return [this](const PullEvent& event) {
      const std::lock_guard lock(mu_);
      events_.push_back(event);
    };
  }
  std::vector<PullEvent> Of(PullEvent::Kind kind, const std::string& digest = {}) {
    const std::lock_guard lock(mu_);
    std::vector<PullEvent> out;
    for (const PullEvent& event : events_) {
      if (event.kind == kind && (digest.empty() || event.digest == digest)) {
        out.push_back(event);
      }
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<PullEvent> events_;
};

size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    n += entry.is_regular_file() ? 1 : 0;
  }
  return n;
}

class PullTest : public ::testing::Test {
 protected:
  // One registry for the suite's tests that need no special server.
  static std::unique_ptr<RegistryServer>& SharedServer() {
    static std::unique_ptr<RegistryServer> server;
    return server;
  }

  static void TearDownTestSuite() { SharedServer().reset(); }

  void SetUp() override {
    if (!SharedServer()) {
      auto server = RegistryServer::Start();
      ASSERT_OK(server);
      SharedServer() = std::move(*server);
    }
    auto dir = os::TempDir::Create("comet-pull-test-");
    ASSERT_OK(dir);
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    empty_auth_ = os::JoinPath(tmp_->path(), "empty-auth.json");
    ASSERT_OK(os::WriteFile(empty_auth_, "{}"));
    auto store = OpenStore();
    ASSERT_OK(store);
    store_.emplace(std::move(*store));
  }

  [[nodiscard]] std::string Root() const { return os::JoinPath(tmp_->path(), "store"); }
  [[nodiscard]] Result<Store> OpenStore() const { return Store::Open(StoreOptions{Root(), {}}); }
  static RegistryServer& Server() { return *SharedServer(); }

  // Options isolated from the machine: no system certs.d, an empty auth file.
  [[nodiscard]] PullOptions Options() const {
    PullOptions options;
    options.registry.certs_dirs.clear();
    options.registry.auth_file = empty_auth_;
    options.registry.stall_timeout = std::chrono::seconds(10);
    options.unpack = DefaultUnpackOptions();
    return options;
  }

  static Reference Ref(const RegistryServer& server, const std::string& rest) {
    auto ref = ParseReference(server.host_port() + "/" + rest);
    EXPECT_TRUE(ref) << ref.error().ToString();
    return *ref;
  }

  // The content of `path` in the image's layer trees (topmost first).
  [[nodiscard]] std::string ReadInImage(const ImageRecord& image, const std::string& path) const {
    auto layers = store_->LayerPaths(image);
    EXPECT_TRUE(layers) << layers.error().ToString();
    if (!layers) {
      return "";
    }
    for (auto it = layers->rbegin(); it != layers->rend(); ++it) {
      if (auto data = os::ReadFile(os::JoinPath(*it, path))) {
        return *data;
      }
    }
    return "<missing " + path + ">";
  }

  // The manifest of repo:tag as the registry stores it.
  static Result<Manifest> RemoteManifest(const RegistryServer& server, const std::string& repo,
                                         const std::string& tag) {
    ASSIGN_OR_RETURN(std::string raw, testing::InspectRaw(server, repo, tag));
    return ParseManifest(raw);
  }

  std::unique_ptr<os::TempDir> tmp_;
  std::string empty_auth_;
  std::optional<Store> store_;
};

TEST_F(PullTest, ByTagOci) {
  ASSERT_OK(testing::PushImage(Server(), "pull/oci", "v1", testing::SmallImageSpec()));
  Events events;
  PullOptions options = Options();
  options.progress = events.Fn();
  auto image = Pull(*store_, Ref(Server(), "pull/oci:v1"), options);
  ASSERT_OK(image);
  EXPECT_EQ(image->names, std::vector<std::string>{Server().host_port() + "/pull/oci:v1"});
  EXPECT_EQ(image->manifest_media_type, media_type::kOciManifest);
  EXPECT_EQ(image->source, "docker://" + Server().host_port() + "/pull/oci:v1");
  EXPECT_EQ(ReadInImage(*image, "etc/hello"), "hello from amd64\n");
  EXPECT_EQ(events.Of(PullEvent::Kind::kResolved).size(), 1U);
  EXPECT_EQ(events.Of(PullEvent::Kind::kLayerUnpacked).size(), 1U);
  EXPECT_EQ(events.Of(PullEvent::Kind::kDone).size(), 1U);
  auto found = store_->FindImage(Server().host_port() + "/pull/oci:v1");
  ASSERT_OK(found);
  EXPECT_EQ(found->manifest_digest, image->manifest_digest);
  // Pulling again downloads nothing.
  Events again;
  options.progress = again.Fn();
  ASSERT_OK(Pull(*store_, Ref(Server(), "pull/oci:v1"), options));
  EXPECT_TRUE(again.Of(PullEvent::Kind::kBlobProgress).empty());
}

TEST_F(PullTest, ByDigestHasNoName) {
  auto digest = testing::PushImage(Server(), "pull/bydigest", "v1", testing::SmallImageSpec());
  ASSERT_OK(digest);
  auto image = Pull(*store_, Ref(Server(), "pull/bydigest@" + digest->ToString()), Options());
  ASSERT_OK(image);
  EXPECT_TRUE(image->names.empty());
  EXPECT_EQ(image->manifest_digest, *digest);
  EXPECT_THAT(image->repo_digests, ::testing::Contains(*digest));
  EXPECT_EQ(ReadInImage(*image, "etc/hello"), "hello from amd64\n");
}

TEST_F(PullTest, DockerSchema2AndNoUnpack) {
  testing::PushOptions push;
  push.format = testing::PushFormat::kDockerV2S2;
  ASSERT_OK(testing::PushImage(Server(), "pull/docker", "v1", testing::SmallImageSpec(), push));
  PullOptions options = Options();
  options.unpack_layers = false;
  auto image = Pull(*store_, Ref(Server(), "pull/docker:v1"), options);
  ASSERT_OK(image);
  EXPECT_EQ(image->manifest_media_type, media_type::kDockerManifest);
  auto manifest = store_->ReadManifest(*image);
  ASSERT_OK(manifest);
  auto config = store_->ReadConfig(*image);
  ASSERT_OK(config);
  EXPECT_TRUE(store_->HasBlob(manifest->layers[0].digest));
  EXPECT_FALSE(store_->HasLayer(config->diff_ids[0]));
}

TEST_F(PullTest, MultiArchIndexSelectsThePlatform) {
  auto index = testing::PushMultiArchImage(
      Server(), "pull/multi", "v1",
      {testing::SmallImageSpec("amd64"), testing::SmallImageSpec("arm64")});
  ASSERT_OK(index);
  for (const std::string arch : {"amd64", "arm64"}) {
    PullOptions options = Options();
    auto platform = ParsePlatform("linux/" + arch);
    ASSERT_OK(platform);
    options.platform = *platform;
    auto image = Pull(*store_, Ref(Server(), "pull/multi:v1"), options);
    ASSERT_OK(image);
    EXPECT_EQ(image->platform.architecture, arch);
    EXPECT_EQ(ReadInImage(*image, "etc/hello"), "hello from " + arch + "\n");
    EXPECT_THAT(image->repo_digests, ::testing::Contains(*index));
    EXPECT_TRUE(store_->HasBlob(*index));
  }
  // The tag moved to the image pulled last.
  auto named = store_->FindImage(Server().host_port() + "/pull/multi:v1");
  ASSERT_OK(named);
  EXPECT_EQ(named->platform.architecture, "arm64");
}

TEST_F(PullTest, MissingPlatformListsTheAvailableOnes) {
  ASSERT_OK(testing::PushMultiArchImage(
      Server(), "pull/multi2", "v1",
      {testing::SmallImageSpec("amd64"), testing::SmallImageSpec("arm64")}));
  PullOptions options = Options();
  auto platform = ParsePlatform("linux/s390x");
  ASSERT_OK(platform);
  options.platform = *platform;
  auto image = Pull(*store_, Ref(Server(), "pull/multi2:v1"), options);
  ASSERT_FALSE(image);
  EXPECT_THAT(image.error().ToString(), HasSubstr("no image for linux/s390x in "));
  EXPECT_THAT(image.error().ToString(), HasSubstr("available: linux/amd64, linux/arm64"));
  auto images = store_->ListImages();
  ASSERT_OK(images);
  EXPECT_TRUE(images->empty());
}

TEST_F(PullTest, ZstdLayer) {
  testing::PushOptions push;
  push.compression = testing::PushCompression::kZstd;
  // Content of its own: skopeo reuses a gzip blob of the same layer already in the registry.
  ImageSpec spec = testing::SmallImageSpec();
  spec.layers[0].files.push_back({"etc/zstd", "zstd\n", 0644, testing::LayerFile::Kind::kFile, ""});
  ASSERT_OK(testing::PushImage(Server(), "pull/zstd", "v1", spec, push));
  auto image = Pull(*store_, Ref(Server(), "pull/zstd:v1"), Options());
  ASSERT_OK(image);
  auto manifest = store_->ReadManifest(*image);
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->layers[0].media_type, media_type::kOciLayerZstd);
  EXPECT_EQ(ReadInImage(*image, "etc/hello"), "hello from amd64\n");
  EXPECT_EQ(ReadInImage(*image, "etc/zstd"), "zstd\n");
}

TEST_F(PullTest, HtpasswdAuth) {
  RegistryServerOptions server_options;
  server_options.users = {{"alice", "s3cret"}};
  auto server = RegistryServer::Start(server_options);
  ASSERT_OK(server);
  ASSERT_OK(testing::PushImage(**server, "pull/auth", "v1", testing::SmallImageSpec()));
  const Reference ref = Ref(**server, "pull/auth:v1");

  PullOptions wrong = Options();
  wrong.registry.credentials = Credentials{"alice", "wrong"};
  auto denied = Pull(*store_, ref, wrong);
  ASSERT_FALSE(denied);
  EXPECT_THAT(denied.error().ToString(), HasSubstr("invalid username or password"));
  auto images = store_->ListImages();
  ASSERT_OK(images);
  EXPECT_TRUE(images->empty());

  PullOptions with_creds = Options();
  with_creds.registry.credentials = Credentials{"alice", "s3cret"};
  ASSERT_OK(Pull(*store_, ref, with_creds));

  const std::string auth_file = os::JoinPath(tmp_->path(), "auth.json");
  ASSERT_OK(os::WriteFile(auth_file, R"({"auths": {")" + (*server)->host_port() +
                                         R"(": {"auth": ")" + Base64Encode("alice:s3cret") +
                                         R"("}}})"));
  auto other_store = Store::Open(StoreOptions{os::JoinPath(tmp_->path(), "other"), {}});
  ASSERT_OK(other_store);
  PullOptions with_file = Options();
  with_file.registry.auth_file = auth_file;
  ASSERT_OK(Pull(*other_store, ref, with_file));
}

// The server dies mid-blob: the pull fails naming the blob and keeps the partial download; the
// next pull resumes from it (a Range request) and the content is intact.
TEST_F(PullTest, InterruptedDownloadResumes) {
  auto server = RegistryServer::Start();
  ASSERT_OK(server);
  const ImageSpec spec = testing::BigImageSpec(1, 50, 7);
  ASSERT_OK(testing::PushImage(**server, "pull/big", "v1", spec));
  auto manifest = RemoteManifest(**server, "pull/big", "v1");
  ASSERT_OK(manifest);
  const Digest layer = manifest->layers[0].digest;
  const Reference ref = Ref(**server, "pull/big:v1");

  std::atomic<bool> killed{false};
  PullOptions options = Options();
  options.progress = [&](const PullEvent& event) {
    if (event.kind == PullEvent::Kind::kBlobProgress && event.digest == layer.ToString() &&
        event.done > (10U << 20U) && !killed.exchange(true)) {
      (*server)->Kill();
    }
  };
  auto failed = Pull(*store_, ref, options);
  ASSERT_FALSE(failed);
  EXPECT_TRUE(killed.load());
  EXPECT_THAT(failed.error().ToString(), HasSubstr(layer.ToString()));
  const std::string partial = os::JoinPath(Root(), "ingest/" + layer.hex() + ".partial");
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(partial, ec), 10U << 20U) << ec.message();
  auto images = store_->ListImages();
  ASSERT_OK(images);
  EXPECT_TRUE(images->empty());

  ASSERT_OK((*server)->Restart());
  Events events;
  options.progress = events.Fn();
  auto image = Pull(*store_, ref, options);
  ASSERT_OK(image);
  auto started = events.Of(PullEvent::Kind::kBlobStarted, layer.ToString());
  ASSERT_EQ(started.size(), 1U);
  EXPECT_GT(started[0].done, 10U << 20U);
  EXPECT_FALSE(os::Exists(partial));
  EXPECT_TRUE(ReadInImage(*image, "data/layer0.bin") == spec.layers[0].files[0].content);
}

// PUTs `doc` as repo:tag with curl and returns its descriptor (for the platform linux/amd64).
nlohmann::json PutManifest(const RegistryServer& server, const std::string& dir,
                           const std::string& repo, const std::string& tag,
                           const nlohmann::json& doc) {
  const std::string body = doc.dump();
  const std::string path = os::JoinPath(dir, tag + ".json");
  EXPECT_TRUE(os::WriteFile(path, body));
  const std::string type = doc["mediaType"].get<std::string>();
  auto put = testing::RunChecked({"curl", "-sSf", "-X", "PUT", "-H", "Content-Type: " + type,
                                  "--data-binary", "@" + path,
                                  server.url() + "/v2/" + repo + "/manifests/" + tag});
  EXPECT_TRUE(put) << put.error().ToString();
  return {{"mediaType", type},
          {"digest", Digest::Sha256Of(body).ToString()},
          {"size", body.size()},
          {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}};
}

// index -> index -> manifest is followed; one more index level is refused.
TEST_F(PullTest, OneNestedIndexLevelOnly) {
  ASSERT_OK(testing::PushImage(Server(), "pull/nest", "m", testing::SmallImageSpec("amd64")));
  auto raw = testing::InspectRaw(Server(), "pull/nest", "m");
  ASSERT_OK(raw);
  auto manifest = nlohmann::json::parse(*raw);
  nlohmann::json desc = PutManifest(Server(), tmp_->path(), "pull/nest", "m2", manifest);
  for (const std::string tag : {"i1", "i2", "i3"}) {
    nlohmann::json index = {{"schemaVersion", 2},
                            {"mediaType", std::string(media_type::kOciIndex)},
                            {"manifests", nlohmann::json::array({desc})}};
    desc = PutManifest(Server(), tmp_->path(), "pull/nest", tag, index);
  }
  PullOptions options = Options();
  auto platform = ParsePlatform("linux/amd64");
  ASSERT_OK(platform);
  options.platform = *platform;
  ASSERT_OK(Pull(*store_, Ref(Server(), "pull/nest:i1"), options));
  ASSERT_OK(Pull(*store_, Ref(Server(), "pull/nest:i2"), options));
  auto deep = Pull(*store_, Ref(Server(), "pull/nest:i3"), options);
  ASSERT_FALSE(deep);
  EXPECT_THAT(deep.error().ToString(), HasSubstr("nests indexes more than one level deep"));
}

// A manifest whose config descriptor gives the wrong size (the digest matches) is refused.
TEST_F(PullTest, ConfigSizeMustMatchItsDescriptor) {
  ASSERT_OK(testing::PushImage(Server(), "pull/cfgsize", "v1", testing::SmallImageSpec()));
  auto raw = testing::InspectRaw(Server(), "pull/cfgsize", "v1");
  ASSERT_OK(raw);
  auto doc = nlohmann::json::parse(*raw);
  const auto real_size = doc["config"]["size"].get<int64_t>();
  doc["config"]["size"] = real_size + 1;
  const std::string path = os::JoinPath(tmp_->path(), "lying.json");
  ASSERT_OK(os::WriteFile(path, doc.dump()));
  ASSERT_OK(testing::RunChecked(
      {"curl", "-sSf", "-X", "PUT", "-H", "Content-Type: " + doc["mediaType"].get<std::string>(),
       "--data-binary", "@" + path, Server().url() + "/v2/pull/cfgsize/manifests/lying"}));

  auto image = Pull(*store_, Ref(Server(), "pull/cfgsize:lying"), Options());
  ASSERT_FALSE(image);
  EXPECT_THAT(
      image.error().ToString(),
      HasSubstr(fmt::format("got {} bytes, its descriptor says {}", real_size, real_size + 1)));
}

// A partial file whose beginning is bad (left by an earlier, broken download) fails the digest
// check after resuming: the pull starts that layer again from byte zero, once.
TEST_F(PullTest, BadResumedPartialIsDownloadedAgain) {
  const ImageSpec spec = testing::BigImageSpec(1, 1, 11);
  ASSERT_OK(testing::PushImage(Server(), "pull/badpartial", "v1", spec));
  auto manifest = RemoteManifest(Server(), "pull/badpartial", "v1");
  ASSERT_OK(manifest);
  const Digest layer = manifest->layers[0].digest;
  const std::string ingest = os::JoinPath(Root(), "ingest");
  ASSERT_OK(os::MkdirAll(ingest));
  ASSERT_OK(os::WriteFile(os::JoinPath(ingest, layer.hex() + ".partial"), std::string(1000, 'z')));

  Events events;
  PullOptions options = Options();
  options.progress = events.Fn();
  auto image = Pull(*store_, Ref(Server(), "pull/badpartial:v1"), options);
  ASSERT_OK(image);
  auto started = events.Of(PullEvent::Kind::kBlobStarted, layer.ToString());
  ASSERT_EQ(started.size(), 2U);
  EXPECT_EQ(started[0].done, 1000U);
  EXPECT_EQ(started[1].done, 0U);
  EXPECT_TRUE(store_->HasBlob(layer));
  EXPECT_TRUE(ReadInImage(*image, "data/layer0.bin") == spec.layers[0].files[0].content);
}

// Two pulls of one image at once, as threads with their own Store objects and as processes,
// share the work: both succeed and each blob is stored once.
TEST_F(PullTest, ConcurrentPullsShareTheStore) {
  ASSERT_OK(testing::PushImage(Server(), "pull/shared", "v1", testing::BigImageSpec(3, 8, 40)));
  const Reference ref = Ref(Server(), "pull/shared:v1");
  const PullOptions options = Options();
  auto pull_in_own_store = [&]() -> Status {
    ASSIGN_OR_RETURN(Store store, OpenStore());
    RETURN_IF_ERROR(Pull(store, ref, options));
    return Ok();
  };
  Status first;
  Status second;
  {
    std::jthread a([&] { first = pull_in_own_store(); });
    std::jthread b([&] { second = pull_in_own_store(); });
  }
  ASSERT_OK(first);
  ASSERT_OK(second);
  const std::string blobs = os::JoinPath(Root(), "blobs/sha256");
  EXPECT_EQ(CountFiles(blobs), 5U);  // manifest, config, 3 layers

  // Processes, on a fresh store.
  ASSERT_OK(testing::PushImage(Server(), "pull/shared2", "v1", testing::BigImageSpec(3, 8, 80)));
  const Reference ref2 = Ref(Server(), "pull/shared2:v1");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = OpenStore();
    _exit(store && Pull(*store, ref2, options) ? 0 : 1);
  }
  auto image = Pull(*store_, ref2, options);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_OK(image);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(CountFiles(blobs), 10U);
  EXPECT_EQ(CountFiles(os::JoinPath(Root(), "ingest")), 0U);
}

TEST_F(PullTest, PullAfterRemove) {
  ASSERT_OK(testing::PushImage(Server(), "pull/rm", "v1", testing::SmallImageSpec()));
  const Reference ref = Ref(Server(), "pull/rm:v1");
  ASSERT_OK(Pull(*store_, ref, Options()));
  ASSERT_OK(store_->RemoveImage(ref.ToString()));
  auto images = store_->ListImages();
  ASSERT_OK(images);
  EXPECT_TRUE(images->empty());
  auto image = Pull(*store_, ref, Options());
  ASSERT_OK(image);
  EXPECT_EQ(ReadInImage(*image, "etc/hello"), "hello from amd64\n");
}

// A registry serving a layer whose content does not match its digest: nothing is named and
// nothing is kept for that digest; the failure (not a "cancelled" echo from the other layer's
// download) is what the error says.
TEST_F(PullTest, TamperedBlobIsRejected) {
  ImageSpec spec = testing::BigImageSpec(1, 16, 300);
  spec.layers.push_back(testing::SmallImageSpec().layers[0]);
  spec.layers[1].files.push_back({"etc/tamper", testing::PseudoRandomBytes(4096, 99), 0644,
                                  testing::LayerFile::Kind::kFile, ""});
  ASSERT_OK(testing::PushImage(Server(), "pull/tamper", "v1", spec));
  auto manifest = RemoteManifest(Server(), "pull/tamper", "v1");
  ASSERT_OK(manifest);
  const Digest layer = manifest->layers[1].digest;
  const std::string data = os::JoinPath(
      Server().storage_dir(),
      "docker/registry/v2/blobs/sha256/" + layer.hex().substr(0, 2) + "/" + layer.hex() + "/data");
  auto content = os::ReadFile(data);
  ASSERT_OK(content);
  std::string tampered = *content;
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x5a);
  ASSERT_OK(os::WriteFile(data, tampered));

  auto image = Pull(*store_, Ref(Server(), "pull/tamper:v1"), Options());
  ASSERT_OK(os::WriteFile(data, *content));  // other tests may share the layer
  ASSERT_FALSE(image);
  EXPECT_THAT(image.error().ToString(), HasSubstr("digest mismatch"));
  EXPECT_THAT(image.error().ToString(), HasSubstr(layer.ToString()));
  auto images = store_->ListImages();
  ASSERT_OK(images);
  EXPECT_TRUE(images->empty());
  EXPECT_FALSE(store_->HasBlob(layer));
  EXPECT_FALSE(os::Exists(os::JoinPath(Root(), "ingest/" + layer.hex() + ".partial")));
}

// Foreign (non-distributable) layers point at other hosts; a pull never contacts them.
TEST(PullLayersTest, ForeignLayersWithUrlsAreRejected) {
  const Digest digest = Digest::Sha256Of("layer");
  Descriptor config{
      std::string(media_type::kDockerConfig), Digest::Sha256Of("{}"), 2, {}, {}, std::nullopt};
  Descriptor foreign{std::string(media_type::kDockerForeignLayerGzip),
                     digest,
                     5,
                     {"https://mcr.example/layer"},
                     {},
                     std::nullopt};
  const Manifest manifest{2, std::string(media_type::kDockerManifest), config, {foreign}, {}};
  auto status = CheckLayersFetchable(manifest, false);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().ToString(), HasSubstr("foreign layers are not supported"));
  EXPECT_THAT(status.error().ToString(), HasSubstr(digest.ToString()));

  Descriptor plain{std::string(media_type::kOciLayerGzip), digest, 5, {}, {}, std::nullopt};
  EXPECT_TRUE(CheckLayersFetchable(Manifest{2, "", config, {plain}, {}}, true));
}

// The benchmark's image: 5 layers of 40 MiB of random data, or one layer per directory of
// COMET_PULL_BENCH_DIRS, made with umoci repack (the fixture's layouts hold tars in memory, and
// umoci 0.4.7's insert writes tars without their final padding).
Status PushBenchImage(const RegistryServer& server, const std::string& tmp) {
  const char* dirs = std::getenv("COMET_PULL_BENCH_DIRS");  // NOLINT(concurrency-mt-unsafe)
  if (dirs == nullptr) {
    RETURN_IF_ERROR(
        testing::PushImage(server, "bench/big", "v1", testing::BigImageSpec(5, 40, 1000)));
    return Ok();
  }
  const std::string layout = os::JoinPath(tmp, "src-layout");
  const std::string bundle = os::JoinPath(tmp, "src-bundle");
  const std::string image = layout + ":v1";
  RETURN_IF_ERROR(testing::RunChecked({"umoci", "init", "--layout", layout}));
  RETURN_IF_ERROR(testing::RunChecked({"umoci", "new", "--image", image}));
  RETURN_IF_ERROR(testing::RunChecked({"umoci", "unpack", "--image", image, bundle}));
  for (const std::string& dir : Split(dirs, ':')) {
    const std::string dest = os::JoinPath(bundle, "rootfs" + dir);
    RETURN_IF_ERROR(os::MkdirAll(dest));
    RETURN_IF_ERROR(testing::RunChecked({"cp", "-a", dir + "/.", dest}));
    RETURN_IF_ERROR(
        testing::RunChecked({"umoci", "repack", "--refresh-bundle", "--image", image, bundle}));
  }
  RETURN_IF_ERROR(testing::RunChecked({"skopeo", "--insecure-policy", "copy",
                                       "--dest-tls-verify=false", "--dest-no-creds", "oci:" + image,
                                       "docker://" + server.host_port() + "/bench/big:v1"}));
  RETURN_IF_ERROR(os::RemoveAll(bundle));
  return os::RemoveAll(layout);
}

// Not a test: `COMET_PULL_BENCH=1 image_registry_test --gtest_filter=PullBench.*` compares a
// pull with unpack of a 5-layer, 200 MiB image against skopeo copy + umoci unpack, alternating
// runs (COMET_PULL_BENCH_RUNS, default 3), in $TMPDIR. COMET_PULL_BENCH_DIRS=/a:/b:... makes
// the layers from those directory trees instead (compressible, many files, like real images).
TEST(PullBench, AgainstSkopeoAndUmoci) {
  const char* enabled = std::getenv("COMET_PULL_BENCH");  // NOLINT(concurrency-mt-unsafe)
  if (enabled == nullptr) {
    GTEST_SKIP() << "set COMET_PULL_BENCH=1 to run";
  }
  const char* runs_env = std::getenv("COMET_PULL_BENCH_RUNS");     // NOLINT(concurrency-mt-unsafe)
  const int runs = runs_env != nullptr ? std::atoi(runs_env) : 3;  // NOLINT(cert-err34-c)
  auto server = RegistryServer::Start();
  ASSERT_OK(server);
  auto tmp = os::TempDir::Create("comet-pull-bench-");
  ASSERT_OK(tmp);
  ASSERT_OK(PushBenchImage(**server, tmp->path()));
  auto manifest =
      testing::InspectRaw(**server, "bench/big", "v1").and_then([](const std::string& raw) {
        return ParseManifest(raw);
      });
  ASSERT_OK(manifest);
  int64_t compressed = 0;
  for (const Descriptor& layer : manifest->layers) {
    compressed += layer.size;
  }
  std::printf("image: %zu layers, %.1f MiB compressed\n", manifest->layers.size(),
              static_cast<double>(compressed) / (1U << 20U));
  const std::string auth = os::JoinPath(tmp->path(), "auth.json");
  ASSERT_OK(os::WriteFile(auth, "{}"));
  using Seconds = std::chrono::duration<double>;
  std::vector<double> ours;
  std::vector<double> theirs;
  for (int run = 0; run < runs; ++run) {
    const std::string root = os::JoinPath(tmp->path(), "store");
    const std::string layout = os::JoinPath(tmp->path(), "layout");
    const std::string bundle = os::JoinPath(tmp->path(), "bundle");
    auto start = std::chrono::steady_clock::now();
    {
      auto store = Store::Open(StoreOptions{root, {}});
      ASSERT_OK(store);
      PullOptions options;
      options.registry.auth_file = auth;
      options.unpack = DefaultUnpackOptions();
      auto ref = ParseReference((*server)->host_port() + "/bench/big:v1");
      ASSERT_OK(ref);
      ASSERT_OK(Pull(*store, *ref, options));
    }
    ours.push_back(Seconds(std::chrono::steady_clock::now() - start).count());
    start = std::chrono::steady_clock::now();
    ASSERT_OK(testing::RunChecked(
        {"skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--src-no-creds",
         "docker://" + (*server)->host_port() + "/bench/big:v1", "oci:" + layout + ":v1"}));
    ASSERT_OK(testing::RunChecked({"umoci", "unpack", "--image", layout + ":v1", bundle}));
    theirs.push_back(Seconds(std::chrono::steady_clock::now() - start).count());
    for (const std::string& dir : {root, layout, bundle}) {
      ASSERT_OK(os::RemoveAll(dir));
    }
    std::printf("run %d: comet %.2f s, skopeo+umoci %.2f s\n", run, ours.back(), theirs.back());
  }
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  const double a = ours[ours.size() / 2];
  const double b = theirs[theirs.size() / 2];
  std::printf("median: comet %.2f s, skopeo copy + umoci unpack %.2f s, ratio %.2f\n", a, b, a / b);
}

}  // namespace
}  // namespace comet::image::registry
