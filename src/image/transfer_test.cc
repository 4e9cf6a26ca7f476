// Tests of import/export (transfer.h): round trips through each archive format, archives made
// by real peers (umoci, skopeo), rootfs tarballs, ACIs, and hostile archives that must fail
// leaving nothing named and nothing that gc does not sweep.
#include "image/transfer.h"

#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "image/layer_trees.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/in_child.h"
#include "testing/tar_builder.h"

namespace comet::image {
namespace {

using comet::testing::Gzip;
using comet::testing::TarBuilder;

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return names;
  }
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  ::closedir(d);
  return names;
}

bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

std::string ReadAll(const std::string& path) {
  auto data = os::ReadFile(path);
  return data ? *data : std::string("<missing>");
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tmp = os::TempDir::Create("comet-transfer-");
    ASSERT_TRUE(tmp) << tmp.error().ToString();
    tmp_ = std::make_unique<os::TempDir>(std::move(*tmp));
    a_ = OpenStore("a");
    b_ = OpenStore("b");
  }

  std::unique_ptr<Store> OpenStore(const std::string& name) {
    auto store = Store::Open(StoreOptions{.root = Path(name), .reference = {}});
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::make_unique<Store>(std::move(*store)) : nullptr;
  }

  std::string Path(const std::string& name) const { return os::JoinPath(tmp_->path(), name); }

  void Write(const std::string& name, std::string_view data) const {
    ASSERT_TRUE(os::WriteFile(Path(name), data));
  }

  static Reference Ref(std::string_view text) { return *ParseReference(text); }

  // A two-layer image (gzip, then uncompressed with a whiteout) named localhost/test/app:1.
  static ImageRecord MakeImage(Store& store, const std::string& entrypoint = "/bin/hello",
                               const std::string& name = "localhost/test/app:1") {
    std::string layer1 = Gzip(TarBuilder()
                                  .Dir("bin")
                                  .File("bin/hello", "#!/bin/sh\necho hello\n", 0755)
                                  .Dir("etc")
                                  .File("etc/os-release", "ID=test\n")
                                  .File("etc/gone", "x")
                                  .Finish());
    std::string layer2 =
        TarBuilder().Dir("etc").File("etc/motd", "hi\n").File("etc/.wh.gone", "").Finish();
    std::string diff1 = Digest::Sha256Of(TarBuilder()
                                             .Dir("bin")
                                             .File("bin/hello", "#!/bin/sh\necho hello\n", 0755)
                                             .Dir("etc")
                                             .File("etc/os-release", "ID=test\n")
                                             .File("etc/gone", "x")
                                             .Finish())
                            .ToString();
    ImageConfig config;
    config.architecture = HostPlatform().architecture;
    config.os = "linux";
    config.config.entrypoint = {entrypoint};
    config.diff_ids = {*Digest::Parse(diff1), Digest::Sha256Of(layer2)};
    std::string config_json = SerializeImageConfig(config);
    Manifest manifest{
        .schema_version = 2,
        .media_type = std::string(media_type::kOciManifest),
        .config = Desc(media_type::kOciConfig, config_json),
        .layers = {Desc(media_type::kOciLayerGzip, layer1), Desc(media_type::kOciLayer, layer2)},
        .annotations = {}};
    std::string manifest_json = SerializeManifest(manifest);
    for (const std::string* blob : {&layer1, &layer2, &config_json, &manifest_json}) {
      EXPECT_TRUE(store.PutBlob(*blob));
    }
    AddImageOptions add;
    add.names = {Ref(name)};
    auto record = store.AddImage(Digest::Sha256Of(manifest_json), add);
    EXPECT_TRUE(record) << record.error().ToString();
    return *record;
  }

  static Descriptor Desc(std::string_view type, std::string_view data) {
    return Descriptor{.media_type = std::string(type),
                      .digest = Digest::Sha256Of(data),
                      .size = static_cast<int64_t>(data.size()),
                      .urls = {},
                      .annotations = {},
                      .platform = std::nullopt};
  }

  static ImportOptions Options() {
    ImportOptions options;
    options.unpack = DefaultUnpackOptions();
    return options;
  }

  // A failed import must leave no image, and gc must leave no blob or layer behind.
  void ExpectFailsClean(const std::string& path, const ImportOptions& options,
                        const std::string& message_part) {
    auto result = Import(*b_, path, options);
    ASSERT_FALSE(result) << "import of " << path << " succeeded";
    EXPECT_NE(result.error().ToString().find(message_part), std::string::npos)
        << result.error().ToString();
    auto images = b_->ListImages();
    ASSERT_TRUE(images);
    EXPECT_TRUE(images->empty());
    GcOptions gc;
    gc.grace_period = std::chrono::seconds(0);
    ASSERT_TRUE(b_->GarbageCollect(gc));
    EXPECT_EQ(DirEntries(os::JoinPath(b_->root(), "blobs/sha256")), std::vector<std::string>{});
    std::vector<std::string> layers;
    for (std::string& name : DirEntries(os::JoinPath(b_->root(), "layers/sha256"))) {
      if (!name.ends_with(".lock")) {  // EnsureLayer's lock files are no layers
        layers.push_back(std::move(name));
      }
    }
    EXPECT_EQ(layers, std::vector<std::string>{});
  }

  std::unique_ptr<os::TempDir> tmp_;
  std::unique_ptr<Store> a_;
  std::unique_ptr<Store> b_;
};

TEST_F(TransferTest, OciArchiveRoundTripKeepsDigests) {
  ImageRecord image = MakeImage(*a_);
  ASSERT_TRUE(Export(*a_, image, Path("x.tar"), {}));
  auto imported = Import(*b_, Path("x.tar"), Options());
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  EXPECT_EQ((*imported)[0].manifest_digest, image.manifest_digest);
  EXPECT_EQ((*imported)[0].config_digest, image.config_digest);
  EXPECT_EQ((*imported)[0].names, image.names);
  EXPECT_TRUE(b_->LayerPaths((*imported)[0]));
}

// docker >= 25 saves an OCI layout plus manifest.json: the layout is what counts.
TEST_F(TransferTest, DockerArchiveEmbeddingALayoutImportsAsOci) {
  ImageRecord image = MakeImage(*a_);
  ASSERT_TRUE(Export(*a_, image, Path("x.tar"), {}));
  auto manifest = a_->ReadManifest(image);
  ASSERT_TRUE(manifest);
  ASSERT_TRUE(os::MkdirAll(Path("extra")));
  Write("extra/manifest.json", R"([{"Config":"blobs/sha256/)" + manifest->config.digest.hex() +
                                   R"(","RepoTags":["other/name:9"],"Layers":[]}])");
  ASSERT_EQ(Shell("tar -rf " + Path("x.tar") + " -C " + Path("extra") + " manifest.json"), 0);
  auto imported = Import(*b_, Path("x.tar"), Options());
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_EQ((*imported)[0].manifest_digest, image.manifest_digest);
  EXPECT_EQ((*imported)[0].names, image.names);
}

TEST_F(TransferTest, OciDirRoundTripKeepsDigests) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kOciLayoutDir;
  ASSERT_TRUE(Export(*a_, image, Path("layout"), options));
  EXPECT_TRUE(os::Exists(Path("layout/oci-layout")));
  auto imported = Import(*b_, Path("layout"), Options());
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  EXPECT_EQ((*imported)[0].manifest_digest, image.manifest_digest);
  EXPECT_EQ((*imported)[0].names, image.names);
}

TEST_F(TransferTest, DockerArchiveRoundTripKeepsConfigAndDiffIds) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kDockerArchive;
  ASSERT_TRUE(Export(*a_, image, Path("d.tar"), options));
  auto imported = Import(*b_, Path("d.tar"), Options());
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  EXPECT_EQ((*imported)[0].config_digest, image.config_digest);
  EXPECT_EQ((*imported)[0].names, image.names);
  auto before = a_->ReadConfig(image);
  auto after = b_->ReadConfig((*imported)[0]);
  ASSERT_TRUE(before && after);
  EXPECT_EQ(before->diff_ids, after->diff_ids);
  auto manifest = b_->ReadManifest((*imported)[0]);
  ASSERT_TRUE(manifest);
  for (const Descriptor& layer : manifest->layers) {
    EXPECT_EQ(layer.media_type, media_type::kOciLayer);  // docker archives hold plain tars
  }
}

TEST_F(TransferTest, ExportRefusesExistingPathAndLeavesNothingOnFailure) {
  ImageRecord image = MakeImage(*a_);
  Write("exists", "x");
  EXPECT_FALSE(Export(*a_, image, Path("exists"), {}));
  auto manifest = a_->ReadManifest(image);
  ASSERT_TRUE(manifest);
  ASSERT_EQ(::unlink(a_->BlobPath(manifest->layers[0].digest).c_str()), 0);
  for (ExportFormat format :
       {ExportFormat::kOciArchive, ExportFormat::kOciLayoutDir, ExportFormat::kDockerArchive}) {
    ExportOptions options;
    options.format = format;
    EXPECT_FALSE(Export(*a_, image, Path("out"), options));
    std::vector<std::string> entries = DirEntries(tmp_->path());
    EXPECT_EQ(std::set<std::string>(entries.begin(), entries.end()),
              (std::set<std::string>{"a", "b", "exists"}));
  }
}

TEST_F(TransferTest, RootfsTarballBecomesARunnableImage) {
  ASSERT_TRUE(os::MkdirAll(Path("tree/bin")));
  ASSERT_TRUE(os::MkdirAll(Path("tree/etc")));
  Write("tree/bin/tool", "tool\n");
  Write("tree/etc/hostname", "box\n");
  ASSERT_EQ(::symlink("tool", Path("tree/bin/link").c_str()), 0);
  ASSERT_EQ(Shell("tar -C " + Path("tree") + " -czf " + Path("rootfs.tgz") + " ."), 0);
  ImportOptions options = Options();
  options.names = {Ref("localhost/rootfs:1")};
  auto imported = Import(*b_, Path("rootfs.tgz"), options);
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  EXPECT_EQ((*imported)[0].names, std::vector<std::string>{"localhost/rootfs:1"});
  auto config = b_->ReadConfig((*imported)[0]);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->os, "linux");
  EXPECT_EQ(config->architecture, HostPlatform().architecture);
  EXPECT_FALSE(config->created.empty());
  ASSERT_EQ(config->config.env.size(), 1U);
  EXPECT_TRUE(config->config.env[0].starts_with("PATH="));
  auto manifest = b_->ReadManifest((*imported)[0]);
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->layers[0].media_type, media_type::kOciLayerGzip);

  ASSERT_TRUE(ExtractRootfs(*b_, (*imported)[0], Path("out"), DefaultUnpackOptions()));
  EXPECT_EQ(ReadAll(Path("out/bin/tool")), "tool\n");
  EXPECT_EQ(ReadAll(Path("out/etc/hostname")), "box\n");
  char target[16] = {};
  ASSERT_EQ(::readlink(Path("out/bin/link").c_str(), target, sizeof(target) - 1), 4);
  EXPECT_STREQ(target, "tool");
}

// `tar -P` writes "/etc/x": like docker import, the leading "/" is dropped.
TEST_F(TransferTest, RootfsTarballWithAbsoluteNames) {
  Write("abs.tar", TarBuilder()
                       .Dir("/etc")
                       .File("/etc/x", "x\n")
                       .File("/bin/tool", "tool\n", 0755)
                       .Hardlink("/bin/tool2", "/bin/tool")
                       .Finish());
  ImportOptions options = Options();
  options.names = {Ref("localhost/abs:1")};
  auto imported = Import(*b_, Path("abs.tar"), options);
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  ASSERT_TRUE(ExtractRootfs(*b_, (*imported)[0], Path("out"), DefaultUnpackOptions()));
  EXPECT_EQ(ReadAll(Path("out/etc/x")), "x\n");
  EXPECT_EQ(ReadAll(Path("out/bin/tool2")), "tool\n");
}

TEST_F(TransferTest, ExtractRootfsAppliesWhiteouts) {
  ImageRecord image = MakeImage(*a_);
  ASSERT_TRUE(ExtractRootfs(*a_, image, Path("out"), DefaultUnpackOptions()));
  EXPECT_EQ(ReadAll(Path("out/etc/motd")), "hi\n");
  EXPECT_FALSE(os::Exists(Path("out/etc/gone")));
  EXPECT_FALSE(os::Exists(Path("out/etc/.wh.gone")));
  EXPECT_FALSE(ExtractRootfs(*a_, image, Path("out"), DefaultUnpackOptions()));  // not empty
}

constexpr std::string_view kAciManifest = R"({
  "acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/app",
  "labels": [{"name": "version", "value": "1.2.3"}, {"name": "os", "value": "linux"},
             {"name": "arch", "value": "aarch64"}],
  "app": {"exec": ["/bin/app", "--serve"], "user": "1000", "group": "100",
          "workingDirectory": "/srv", "environment": [{"name": "MODE", "value": "prod"}],
          "ports": [{"name": "http", "protocol": "tcp", "port": 8080}]},
  "annotations": [{"name": "authors", "value": "someone"}]
})";

TEST_F(TransferTest, AciBecomesAnOciImage) {
  Write("app.aci", Gzip(TarBuilder()
                            .File("manifest", std::string(kAciManifest))
                            .Dir("rootfs")
                            .Dir("rootfs/bin")
                            .File("rootfs/bin/app", "app\n", 0755)
                            .Hardlink("rootfs/bin/app2", "rootfs/bin/app")
                            .Finish()));
  auto imported = Import(*b_, Path("app.aci"), Options());
  ASSERT_TRUE(imported) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1U);
  EXPECT_EQ((*imported)[0].names, std::vector<std::string>{"example.com/app:1.2.3"});
  auto config = b_->ReadConfig((*imported)[0]);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->architecture, "arm64");
  EXPECT_EQ(config->config.entrypoint, (std::vector<std::string>{"/bin/app", "--serve"}));
  EXPECT_EQ(config->config.user, "1000:100");
  EXPECT_EQ(config->config.working_dir, "/srv");
  EXPECT_EQ(config->config.exposed_ports, std::vector<std::string>{"8080/tcp"});
  EXPECT_EQ(config->config.labels["version"], "1.2.3");
  EXPECT_EQ(config->author, "someone");
  ASSERT_EQ(config->config.env.size(), 2U);
  EXPECT_EQ(config->config.env[1], "MODE=prod");
  ASSERT_TRUE(ExtractRootfs(*b_, (*imported)[0], Path("out"), DefaultUnpackOptions()));
  EXPECT_EQ(ReadAll(Path("out/bin/app2")), "app\n");
}

TEST_F(TransferTest, LayoutTagsNeedANameAndSelectChooses) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kOciLayoutDir;
  options.names = {"latest"};  // a bare tag, as umoci writes: no repository
  ASSERT_TRUE(Export(*a_, image, Path("layout"), options));
  ImportOptions import = Options();
  import.select = "nope";
  EXPECT_FALSE(Import(*b_, Path("layout"), import));
  import.select = "latest";
  auto nameless = Import(*b_, Path("layout"), import);
  ASSERT_TRUE(nameless) << nameless.error().ToString();
  EXPECT_TRUE((*nameless)[0].names.empty());
  import.names = {Ref("localhost/named:2")};
  auto named = Import(*b_, Path("layout"), import);
  ASSERT_TRUE(named) << named.error().ToString();
  EXPECT_EQ((*named)[0].names, std::vector<std::string>{"localhost/named:2"});
}

TEST_F(TransferTest, LayoutWithSeveralImages) {
  ImageRecord one = MakeImage(*a_, "/one", "localhost/one:1");
  ImageRecord two = MakeImage(*a_, "/two", "localhost/two:1");
  ExportOptions options;
  options.format = ExportFormat::kOciLayoutDir;
  options.names = {"one"};
  ASSERT_TRUE(Export(*a_, one, Path("l1"), options));
  options.names = {"two"};
  ASSERT_TRUE(Export(*a_, two, Path("l2"), options));
  ASSERT_EQ(Shell("cp -n " + Path("l2/blobs/sha256/*") + " " + Path("l1/blobs/sha256/")), 0);
  auto index1 = ParseIndex(ReadAll(Path("l1/index.json")));
  auto index2 = ParseIndex(ReadAll(Path("l2/index.json")));
  ASSERT_TRUE(index1 && index2);
  index1->manifests.push_back(index2->manifests[0]);
  Write("l1/index.json", SerializeIndex(*index1));

  ImportOptions import = Options();
  import.names = {Ref("localhost/chosen:1")};
  EXPECT_FALSE(Import(*b_, Path("l1"), import));  // a name for which image?
  import.select = "two";
  auto chosen = Import(*b_, Path("l1"), import);
  ASSERT_TRUE(chosen) << chosen.error().ToString();
  ASSERT_EQ(chosen->size(), 1U);
  EXPECT_EQ((*chosen)[0].manifest_digest, two.manifest_digest);
  EXPECT_EQ((*chosen)[0].names, std::vector<std::string>{"localhost/chosen:1"});
  auto all = Import(*b_, Path("l1"), Options());
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all->size(), 2U);
}

// ---- hostile inputs

TEST_F(TransferTest, LayoutBlobWithWrongContentFails) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kOciLayoutDir;
  ASSERT_TRUE(Export(*a_, image, Path("layout"), options));
  auto manifest = a_->ReadManifest(image);
  ASSERT_TRUE(manifest);
  std::string layer = Path("layout/blobs/sha256/" + manifest->layers[1].digest.hex());
  std::string data = ReadAll(layer);
  data[600] = static_cast<char>(data[600] ^ 1);
  ASSERT_TRUE(os::WriteFile(layer, data));
  ExpectFailsClean(Path("layout"), Options(), "sha256");
  // The same as a tar.
  ASSERT_EQ(Shell("tar -C " + Path("layout") + " -cf " + Path("layout.tar") + " ."), 0);
  ExpectFailsClean(Path("layout.tar"), Options(), "sha256");
}

TEST_F(TransferTest, DescriptorSizeMismatchFails) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kOciLayoutDir;
  ASSERT_TRUE(Export(*a_, image, Path("layout"), options));
  // Rewrite the manifest with a layer size one byte off, and point index.json at it.
  auto manifest = a_->ReadManifest(image);
  ASSERT_TRUE(manifest);
  manifest->layers[0].size += 1;
  std::string json = SerializeManifest(*manifest);
  Digest digest = Digest::Sha256Of(json);
  Write("layout/blobs/sha256/" + digest.hex(), json);
  Index index;
  index.manifests.push_back(Desc(media_type::kOciManifest, json));
  Write("layout/index.json", SerializeIndex(index));
  ExpectFailsClean(Path("layout"), Options(), "bytes");
  ASSERT_EQ(Shell("tar -C " + Path("layout") + " -cf " + Path("layout.tar") + " ."), 0);
  ExpectFailsClean(Path("layout.tar"), Options(), "bytes");
}

// A docker archive by hand: manifest.json, config and layer files.
std::string DockerArchive(const std::string& layer_path, const std::string& layer,
                          const std::string& config_diff_id) {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                       R"("diff_ids":[")" +
                       config_diff_id + R"("]}})";
  std::string manifest =
      R"([{"Config":"c.json","RepoTags":["localhost/d:1"],"Layers":[")" + layer_path + R"("]}])";
  return TarBuilder()
      .File("l/layer.tar", layer)
      .File("c.json", config)
      .File("manifest.json", manifest)
      .Finish();
}

TEST_F(TransferTest, DockerArchiveChecksDiffIdsAndPaths) {
  std::string layer = TarBuilder().File("a", "a").Finish();
  Write("good.tar", DockerArchive("l/layer.tar", Gzip(layer), Digest::Sha256Of(layer).ToString()));
  auto good = Import(*a_, Path("good.tar"), Options());
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ((*good)[0].names, std::vector<std::string>{"localhost/d:1"});
  EXPECT_EQ((*good)[0].manifest_media_type, media_type::kDockerManifest);  // gzip layers

  Write("wrong.tar", DockerArchive("l/layer.tar", layer, Digest::Sha256Of("x").ToString()));
  ExpectFailsClean(Path("wrong.tar"), Options(), "diff");
  ImportOptions no_unpack = Options();
  no_unpack.unpack_layers = false;
  ExpectFailsClean(Path("wrong.tar"), no_unpack, "diff");
  Write("escape.tar", DockerArchive("../l/layer.tar", layer, Digest::Sha256Of(layer).ToString()));
  ExpectFailsClean(Path("escape.tar"), Options(), "escapes");
}

TEST_F(TransferTest, HostileAcisFail) {
  std::string manifest(kAciManifest);
  Write("outside.aci",
        TarBuilder().File("manifest", manifest).File("rootfs/a", "a").File("etc/x", "x").Finish());
  ExpectFailsClean(Path("outside.aci"), Options(), "outside rootfs");
  Write("dotdot.aci", TarBuilder().File("manifest", manifest).File("rootfs/../../x", "x").Finish());
  ImportOptions aci = Options();
  aci.format = ArchiveFormat::kAci;
  ExpectFailsClean(Path("dotdot.aci"), aci, "escapes");
  std::string deps = manifest;
  deps.insert(1, R"("dependencies": [{"imageName": "example.com/base"}],)");
  Write("deps.aci", TarBuilder().File("manifest", deps).File("rootfs/a", "a").Finish());
  ExpectFailsClean(Path("deps.aci"), Options(), "ACI dependencies are not supported");
  std::string pod = manifest;
  pod.replace(pod.find("ImageManifest"), 13, "PodManifest");
  Write("pod.aci", TarBuilder().File("manifest", pod).File("rootfs/a", "a").Finish());
  ExpectFailsClean(Path("pod.aci"), Options(), "acKind");
}

TEST_F(TransferTest, TruncatedGzipFails) {
  std::string tgz = Gzip(TarBuilder().File("bin/a", std::string(100000, 'a')).Finish());
  Write("cut.tgz", tgz.substr(0, tgz.size() / 2));
  ImportOptions options = Options();
  options.format = ArchiveFormat::kRootfsTarball;
  ExpectFailsClean(Path("cut.tgz"), options, "");
  ExpectFailsClean(Path("cut.tgz"), Options(), "");
}

// ---- unpack options for this process

TEST(DefaultUnpackOptionsTest, RootKeepsOwnershipDevicesAndTrustedXattrs) {
  if (!comet::testing::IsRoot()) {
    GTEST_SKIP() << "needs root in the initial user namespace";
  }
  UnpackOptions options = DefaultUnpackOptions();
  EXPECT_TRUE(options.keep_ownership);
  EXPECT_TRUE(options.allow_devices);
  EXPECT_EQ(options.overlay_xattr_prefix, "trusted.");
}

TEST(DefaultUnpackOptionsTest, RootOfASingleIdUserNamespaceIsRootless) {
  auto outcome = comet::testing::RunInChild([] {
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWUSER) != 0) {
      return 77;
    }
    if (!os::WriteFile("/proc/self/setgroups", "deny") ||
        !os::WriteFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !os::WriteFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
      return 2;
    }
    UnpackOptions options = DefaultUnpackOptions();
    // One mapped id: chown to any other id would fail, so ownership is dropped (with
    // subordinate ranges it is kept: snapshot_userns_privileged_test.cc).
    return !options.keep_ownership && !options.allow_devices &&
                   options.overlay_xattr_prefix == "user."
               ? 0
               : 1;
  });
  if (outcome.exit_code == 77) {
    GTEST_SKIP() << "user namespaces unavailable";
  }
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(DefaultUnpackOptionsTest, UnprivilegedUserDropsOwnership) {
  if (!comet::testing::IsRoot()) {
    UnpackOptions options = DefaultUnpackOptions();
    EXPECT_FALSE(options.keep_ownership);
    EXPECT_EQ(options.overlay_xattr_prefix, "user.");
    return;
  }
  auto outcome = comet::testing::RunInChild([] {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      return 2;
    }
    UnpackOptions options = DefaultUnpackOptions();
    return !options.keep_ownership && !options.allow_devices &&
                   options.overlay_xattr_prefix == "user."
               ? 0
               : 1;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// ---- peers

class TransferPeerTest : public TransferTest {
 protected:
  void SetUp() override {
    TransferTest::SetUp();
    if (!HaveTool("umoci") || !HaveTool("skopeo") || !os::Exists("/bin/busybox")) {
      GTEST_SKIP() << "umoci, skopeo or /bin/busybox missing";
    }
  }

  // An OCI layout made by umoci from a busybox-static tree, tag "t".
  void BuildUmociLayout() {
    ASSERT_TRUE(os::MkdirAll(Path("tree/bin")));
    ASSERT_EQ(Shell("cp /bin/busybox " + Path("tree/bin/busybox")), 0);
    ASSERT_EQ(::symlink("busybox", Path("tree/bin/sh").c_str()), 0);
    std::string layout = Path("umoci");
    ASSERT_EQ(Shell("umoci init --layout " + layout), 0);
    ASSERT_EQ(Shell("umoci new --image " + layout + ":t"), 0);
    ASSERT_EQ(Shell("umoci insert --image " + layout + ":t " + Path("tree") + " /"), 0);
    ASSERT_EQ(Shell("umoci config --image " + layout + ":t --config.cmd /bin/sh"), 0);
  }

  // podman with a private store (vfs: no mounts), so tests leave the host's alone.
  std::string Podman() const {
    return "podman --root " + Path("podman-root") + " --runroot " + Path("podman-run") +
           " --storage-driver vfs";
  }

  void ExpectBusybox(const ImageRecord& image) {
    std::string out = Path("out-" + image.manifest_digest.Short());
    ASSERT_TRUE(ExtractRootfs(*b_, image, out, DefaultUnpackOptions()));
    struct stat st {};
    ASSERT_EQ(::stat((out + "/bin/busybox").c_str(), &st), 0);
    EXPECT_TRUE((st.st_mode & 0100) != 0);
    auto config = b_->ReadConfig(image);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->config.cmd, std::vector<std::string>{"/bin/sh"});
  }
};

TEST_F(TransferPeerTest, ImportsUmociLayoutAndSkopeoArchives) {
  BuildUmociLayout();
  ImportOptions options = Options();
  options.names = {Ref("localhost/bb:umoci")};
  auto layout = Import(*b_, Path("umoci"), options);
  ASSERT_TRUE(layout) << layout.error().ToString();
  ExpectBusybox((*layout)[0]);

  ASSERT_EQ(Shell("skopeo copy oci:" + Path("umoci") + ":t docker-archive:" + Path("d.tar") +
                  ":localhost/bb:docker"),
            0);
  ASSERT_EQ(Shell("skopeo copy oci:" + Path("umoci") + ":t oci-archive:" + Path("o.tar") +
                  ":localhost/bb:oci"),
            0);
  auto docker = Import(*b_, Path("d.tar"), Options());
  ASSERT_TRUE(docker) << docker.error().ToString();
  EXPECT_EQ((*docker)[0].names, std::vector<std::string>{"localhost/bb:docker"});
  ExpectBusybox((*docker)[0]);
  auto oci = Import(*b_, Path("o.tar"), Options());
  ASSERT_TRUE(oci) << oci.error().ToString();
  // Same manifest as the umoci import: the image gains the name.
  EXPECT_EQ((*oci)[0].names, (std::vector<std::string>{"localhost/bb:umoci", "localhost/bb:oci"}));
  EXPECT_EQ((*oci)[0].manifest_digest, (*layout)[0].manifest_digest);
}

TEST_F(TransferPeerTest, PeersReadOurExports) {
  ImageRecord image = MakeImage(*a_);
  ExportOptions options;
  options.format = ExportFormat::kOciArchive;
  ASSERT_TRUE(Export(*a_, image, Path("o.tar"), options));
  EXPECT_EQ(Shell("skopeo inspect oci-archive:" + Path("o.tar")), 0);
  options.format = ExportFormat::kDockerArchive;
  ASSERT_TRUE(Export(*a_, image, Path("d.tar"), options));
  EXPECT_EQ(Shell("skopeo inspect docker-archive:" + Path("d.tar")), 0);
  options.format = ExportFormat::kOciLayoutDir;
  ASSERT_TRUE(Export(*a_, image, Path("layout"), options));
  EXPECT_EQ(Shell("skopeo copy oci:" + Path("layout") + ":localhost/test/app:1 dir:" + Path("dir")),
            0);
  EXPECT_EQ(Shell("umoci ls --layout " + Path("layout") + " | grep -qx localhost/test/app:1"), 0);
  if (HaveTool("podman") && comet::testing::IsRoot()) {  // rootless podman needs subuids
    std::string podman = Podman();
    EXPECT_EQ(Shell(podman + " load -i " + Path("d.tar")), 0);
    EXPECT_EQ(Shell(podman + " image exists localhost/test/app:1"), 0);
    EXPECT_EQ(Shell(podman + " load -i " + Path("o.tar")), 0);
  }
}

TEST_F(TransferPeerTest, ImportsPodmanSave) {
  if (!HaveTool("podman") || !comet::testing::IsRoot()) {
    GTEST_SKIP() << "needs podman, as root (rootless podman needs subuids)";
  }
  BuildUmociLayout();
  std::string podman = Podman();
  ASSERT_EQ(Shell("skopeo copy oci:" + Path("umoci") + ":t oci-archive:" + Path("in.tar")), 0);
  ASSERT_EQ(Shell(podman + " load -i " + Path("in.tar")), 0);
  std::string tag = podman;
  tag.append(" tag $(").append(podman).append(" images -q | head -1) localhost/bb:podman");
  ASSERT_EQ(Shell(tag), 0);
  for (const char* format : {"docker-archive", "oci-archive"}) {
    std::string out = Path(std::string(format) + ".tar");
    std::string save = podman;
    save.append(" save --format ").append(format).append(" -o ").append(out);
    ASSERT_EQ(Shell(save + " localhost/bb:podman"), 0);
    auto imported = Import(*b_, out, Options());
    ASSERT_TRUE(imported) << format << ": " << imported.error().ToString();
    ExpectBusybox((*imported)[0]);
    auto names = (*imported)[0].names;
    EXPECT_NE(std::find(names.begin(), names.end(), "localhost/bb:podman"), names.end()) << format;
  }
}

}  // namespace
}  // namespace comet::image
