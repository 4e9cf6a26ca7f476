// End-to-end tests of comet's image commands: the built `comet` binary against a real
// docker-registry on 127.0.0.1 with images pushed by skopeo, and files written by peers
// (skopeo, umoci). Runs as root in CI; the rootless case drops to the comet-test user.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/registry_server.h"
#include "testing/tar_builder.h"
#include "testing/test_images.h"

namespace comet::testing {
namespace {

namespace fs = std::filesystem;

const char* CometBinary() {
  const char* env = std::getenv("COMET");  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr ? env : COMET_BINARY_DEFAULT;
}

class ImageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-image-e2e");
    ASSERT_TRUE(dir) << dir.error().ToString();
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    data_ = os::JoinPath(tmp_->path(), "data");
  }

  // Runs comet with --dir <data_> and `args`.
  CommandResult Comet(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {CometBinary(), "--dir", data_});
    auto result = RunCommand(args, env, std::chrono::seconds(240));
    EXPECT_TRUE(result) << result.error().ToString();
    return result ? *result : CommandResult{};
  }

  std::string Ok(std::vector<std::string> args) {
    CommandResult r = Comet(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  }

  static std::unique_ptr<RegistryServer> StartRegistry(RegistryServerOptions options = {}) {
    auto server = RegistryServer::Start(std::move(options));
    EXPECT_TRUE(server) << server.error().ToString();
    return server ? std::move(*server) : nullptr;
  }

  nlohmann::json ListJson() {
    return nlohmann::json::parse(Ok({"image", "list", "--format=json"}), nullptr, false);
  }

  std::vector<std::string> Blobs() {
    std::vector<std::string> out;
    const std::string dir = os::JoinPath(data_, "images/blobs/sha256");
    if (!fs::exists(dir)) {
      return out;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
      out.push_back(entry.path().filename());
    }
    return out;
  }

  static std::string ReadOrEmpty(const std::string& path) {
    auto data = os::ReadFile(path);
    return data ? *data : "";
  }

  std::unique_ptr<os::TempDir> tmp_;
  std::string data_;
};

TEST_F(ImageCli, FetchListInspectCatManifest) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  auto pushed = PushImage(*server, "app", "1", SmallImageSpec());
  ASSERT_TRUE(pushed) << pushed.error().ToString();
  const std::string ref = server->host_port() + "/app:1";

  CommandResult fetch = Comet({"fetch", ref});
  ASSERT_EQ(fetch.exit_code, 0) << fetch.Describe();
  const std::string id = fetch.out.substr(0, fetch.out.find('\n'));
  EXPECT_TRUE(image::Digest::Parse(id)) << fetch.out;
  EXPECT_EQ(fetch.err, "") << "no progress output when stderr is not a terminal";

  nlohmann::json list = ListJson();
  ASSERT_TRUE(list.is_array()) << list;
  ASSERT_EQ(list.size(), 1U) << list;
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["names"][0], ref);
  EXPECT_EQ(list[0]["digest"], pushed->ToString());

  const std::string table = Ok({"image", "list"});
  EXPECT_NE(table.find("ID"), std::string::npos) << table;
  EXPECT_NE(table.find(ref), std::string::npos) << table;
  EXPECT_NE(table.find(id.substr(7, 12)), std::string::npos) << table;

  // By name, ID prefix and digest; the manifest bytes hash to the pushed digest.
  for (const std::string& what : {ref, id.substr(7, 8), pushed->ToString()}) {
    const std::string manifest = Ok({"image", "cat-manifest", what});
    EXPECT_EQ(image::Digest::Sha256Of(manifest), *pushed) << what;
  }
  nlohmann::json inspect = nlohmann::json::parse(Ok({"image", "inspect", ref}), nullptr, false);
  ASSERT_TRUE(inspect.is_array()) << inspect;
  EXPECT_EQ(inspect[0]["config"]["architecture"], "amd64");
  EXPECT_EQ(inspect[0]["config"]["config"]["Cmd"][0], "/bin/sh");

  // Fetching again downloads nothing new and names the same image.
  CommandResult again = Comet({"fetch", ref});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(again.out, fetch.out);
}

TEST_F(ImageCli, ShortNamesUseTheDefaultRegistry) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "team/tool", "2", SmallImageSpec()));
  CommandResult r = Comet({"--default-registry", server->host_port(), "fetch", "team/tool:2"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ListJson()[0]["names"][0], server->host_port() + "/team/tool:2");
  // The same short name finds the image afterwards.
  CommandResult inspect =
      Comet({"--default-registry", server->host_port(), "image", "inspect", "team/tool:2"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.Describe();
}

TEST_F(ImageCli, MultiArchIndexPicksThePlatform) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  auto index =
      PushMultiArchImage(*server, "multi", "1", {SmallImageSpec("amd64"), SmallImageSpec("arm64")});
  ASSERT_TRUE(index) << index.error().ToString();
  const std::string ref = server->host_port() + "/multi:1";
  const std::string out = os::JoinPath(tmp_->path(), "arm");
  Ok({"fetch", "--platform", "linux/arm64", ref});
  Ok({"image", "extract", "--rootfs-only", ref, out});
  EXPECT_EQ(ReadOrEmpty(out + "/etc/hello"), "hello from arm64\n");

  // The host's platform by default; the index digest finds the image too.
  Ok({"fetch", ref});
  const std::string amd = os::JoinPath(tmp_->path(), "amd");
  Ok({"image", "extract", "--rootfs-only", ref, amd});
  EXPECT_EQ(ReadOrEmpty(amd + "/etc/hello"), "hello from amd64\n");
  Ok({"image", "inspect", server->host_port() + "/multi@" + index->ToString()});

  CommandResult missing = Comet({"fetch", "--platform", "linux/s390x", ref});
  EXPECT_EQ(missing.exit_code, 254) << missing.Describe();
  EXPECT_NE(missing.err.find("linux/s390x"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("linux/arm64"), std::string::npos) << missing.err;
}

TEST_F(ImageCli, ZstdAndDockerSchema2Layers) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "zstd", "1", SmallImageSpec(),
                        {.format = PushFormat::kOci, .compression = PushCompression::kZstd}));
  ASSERT_TRUE(
      PushImage(*server, "docker", "1", SmallImageSpec(),
                {.format = PushFormat::kDockerV2S2, .compression = PushCompression::kGzip}));
  for (const char* repo : {"zstd", "docker"}) {
    const std::string ref = fmt::format("{}/{}:1", server->host_port(), repo);
    Ok({"fetch", ref});
    const std::string out = os::JoinPath(tmp_->path(), repo);
    Ok({"image", "render", ref, out});
    EXPECT_EQ(ReadOrEmpty(out + "/rootfs/etc/hello"), "hello from amd64\n") << repo;
    EXPECT_EQ(fs::read_symlink(out + "/rootfs/etc/greeting"), "hello") << repo;
    EXPECT_TRUE(fs::exists(out + "/manifest")) << repo;
    EXPECT_TRUE(fs::exists(out + "/config")) << repo;
  }
  nlohmann::json inspect = nlohmann::json::parse(
      Ok({"image", "inspect", server->host_port() + "/zstd:1"}), nullptr, false);
  EXPECT_EQ(inspect[0]["manifest"]["layers"][0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+zstd");
}

TEST_F(ImageCli, BasicAuthFromFlagsAndAuthFile) {
  RegistryServerOptions options;
  options.users = {{"alice", "s3cret"}};
  auto server = StartRegistry(options);
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "private", "1", SmallImageSpec()));
  const std::string ref = server->host_port() + "/private:1";

  CommandResult anonymous = Comet({"fetch", ref});
  EXPECT_EQ(anonymous.exit_code, 254) << anonymous.Describe();
  EXPECT_NE(anonymous.err.find(server->host_port()), std::string::npos) << anonymous.err;
  CommandResult wrong = Comet({"fetch", "--creds", "alice:wrong", ref});
  EXPECT_EQ(wrong.exit_code, 254) << wrong.Describe();
  EXPECT_EQ(wrong.err.find("wrong"), std::string::npos) << "password echoed: " << wrong.err;
  EXPECT_TRUE(ListJson().empty());

  Ok({"fetch", "--creds", "alice:s3cret", ref});
  Ok({"image", "rm", ref});
  const std::string auth = os::JoinPath(tmp_->path(), "auth.json");
  ASSERT_TRUE(os::WriteFile(
      auth,
      fmt::format(R"({{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}})", server->host_port())));
  Ok({"fetch", "--authfile", auth, ref});
  CommandResult by_env = Comet({"fetch", ref}, {"REGISTRY_AUTH_FILE=" + auth});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.Describe();
}

TEST_F(ImageCli, BearerTokenAuth) {
  RegistryServerOptions options;
  options.users = {{"bob", "pw"}};
  options.token_auth = true;
  auto server = StartRegistry(options);
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "tokened", "1", SmallImageSpec()));
  const std::string ref = server->host_port() + "/tokened:1";
  EXPECT_EQ(Comet({"fetch", ref}).exit_code, 254);
  Ok({"fetch", "--creds", "bob:pw", ref});
}

TEST_F(ImageCli, TlsRegistryNeedsItsCa) {
  RegistryServerOptions options;
  options.tls = true;
  auto server = StartRegistry(options);
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "tls", "1", SmallImageSpec()));
  // localhost:<port> is a loopback name, yet TLS is tried first and must verify.
  const std::string ref = server->host_port() + "/tls:1";
  CommandResult untrusted = Comet({"fetch", ref});
  EXPECT_EQ(untrusted.exit_code, 254) << untrusted.Describe();
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  Ok({"fetch", "--cert-dir", server->certs_dir(), ref});
}

TEST_F(ImageCli, InterruptedFetchResumes) {
  constexpr uintmax_t kLayerBytes = uintmax_t{96} << 20U;  // its tar is a little larger
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "big", "1", BigImageSpec(1, 96)));
  const std::string ref = server->host_port() + "/big:1";
  const std::string ingest = os::JoinPath(data_, "images/ingest");
  // The layer's partial file, once it holds more than `bytes` and not yet the whole layer.
  auto partial_over = [&](uintmax_t bytes) {
    std::error_code ec;
    if (fs::exists(ingest, ec)) {
      for (const auto& entry : fs::directory_iterator(ingest, ec)) {
        uintmax_t size = entry.file_size(ec);
        if (!ec && entry.path().extension() == ".partial" && size > bytes && size < kLayerBytes) {
          return true;
        }
      }
    }
    return false;
  };

  // Kill the registry once a good part of the layer has arrived. An attempt counts when the
  // registry was killed, the fetch failed and a partial layer is left. On a loaded machine the
  // watcher may look too late (the whole layer is in, or still in flight on the socket): then
  // the data dir goes and it is tried again — what is tested is the resume, not the timing.
  bool interrupted = false;
  std::string last_attempt;
  for (int attempt = 1; attempt <= 3 && !interrupted; ++attempt) {
    if (attempt > 1) {
      server->Kill();  // when the watcher never did
      ASSERT_TRUE(os::RemoveAll(data_));
      ASSERT_TRUE(server->Restart());
    }
    std::thread killer([&] {
      for (int i = 0; i < 2000; ++i) {
        if (partial_over(16U << 20U)) {
          server->Kill();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    CommandResult broken = Comet({"fetch", "--jobs", "1", ref});
    killer.join();
    const bool killed = !server->running();
    interrupted = killed && broken.exit_code == 254 && partial_over(0);
    last_attempt =
        fmt::format("attempt {}: registry killed: {}; {}", attempt, killed, broken.Describe());
  }
  ASSERT_TRUE(interrupted) << "no fetch of three was cut off with a partial layer left; "
                           << last_attempt;
  EXPECT_TRUE(ListJson().empty());

  ASSERT_TRUE(server->Restart());
  CommandResult resumed = Comet({"--debug", "fetch", ref});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_NE(resumed.err.find("resuming sha256:"), std::string::npos) << resumed.err;
  const std::string out = os::JoinPath(tmp_->path(), "big");
  Ok({"image", "extract", "--rootfs-only", ref, out});
  uintmax_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (entry.is_regular_file()) {
      total += entry.file_size();
    }
  }
  EXPECT_EQ(total, kLayerBytes);
}

TEST_F(ImageCli, ConcurrentFetchesShareTheWork) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "shared", "1", BigImageSpec(3, 8)));
  const std::string ref = server->host_port() + "/shared:1";
  CommandResult a;
  CommandResult b;
  std::thread first([&] { a = Comet({"fetch", ref}); });
  std::thread second([&] { b = Comet({"fetch", ref}); });
  first.join();
  second.join();
  EXPECT_EQ(a.exit_code, 0) << a.Describe();
  EXPECT_EQ(b.exit_code, 0) << b.Describe();
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(Blobs().size(), 5U);  // manifest, config, 3 layers: one copy each
  EXPECT_EQ(ListJson().size(), 1U);
}

TEST_F(ImageCli, ExportImportRoundTripReadableByPeers) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "rt", "1", SmallImageSpec()));
  const std::string ref = server->host_port() + "/rt:1";
  const std::string id = Ok({"fetch", ref});
  const std::string oci = os::JoinPath(tmp_->path(), "rt.oci.tar");
  const std::string docker = os::JoinPath(tmp_->path(), "rt.docker.tar");
  const std::string dir = os::JoinPath(tmp_->path(), "rt-layout");
  Ok({"image", "export", ref, oci});
  Ok({"image", "export", "--format", "docker-archive", ref, docker});
  Ok({"image", "export", "--format", "oci-dir", ref, dir});
  EXPECT_EQ(Comet({"image", "export", ref, oci}).exit_code, 254) << "exists: needs --overwrite";
  Ok({"image", "export", "--overwrite", ref, oci});

  // skopeo's oci:PATH:NAME form is understood by fetch as well.
  const std::string via_fetch = os::JoinPath(tmp_->path(), "via-fetch");
  CommandResult fetched =
      RunCommand({CometBinary(), "--dir", via_fetch, "fetch", fmt::format("oci:{}:{}", dir, ref)})
          .value();
  EXPECT_EQ(fetched.exit_code, 0) << fetched.Describe();
  EXPECT_EQ(fetched.out, id);
  for (const std::string& source :
       {"oci-archive:" + oci, "docker-archive:" + docker, fmt::format("oci:{}:{}", dir, ref)}) {
    auto inspected = RunChecked({"skopeo", "inspect", source});
    EXPECT_TRUE(inspected) << source << ": " << inspected.error().ToString();
  }

  // Into a second store: same image ID from each format.
  data_ = os::JoinPath(tmp_->path(), "second");
  for (const std::string& file : {oci, docker, dir}) {
    CommandResult imported = Comet({"image", "import", file});
    EXPECT_EQ(imported.exit_code, 0) << file << ": " << imported.Describe();
    EXPECT_EQ(imported.out, id) << file;
  }
  // The docker archive's image has its own manifest (same config): the name is on one of them.
  size_t named = 0;
  for (const auto& image : ListJson()) {
    for (const auto& name : image["names"]) {
      named += name == ref ? 1 : 0;
    }
  }
  EXPECT_EQ(named, 1U);
}

TEST_F(ImageCli, ImportsRootfsTarballAndAci) {
  const std::string tree = os::JoinPath(tmp_->path(), "tree");
  ASSERT_TRUE(os::MkdirAll(tree + "/etc"));
  ASSERT_TRUE(os::WriteFile(tree + "/etc/motd", "from a tarball\n"));
  const std::string tarball = os::JoinPath(tmp_->path(), "rootfs.tar.gz");
  ASSERT_TRUE(RunChecked({"tar", "-C", tree, "-czf", tarball, "."}));
  Ok({"image", "import", "--name", "local/rootfs:1", tarball});
  const std::string out = os::JoinPath(tmp_->path(), "out");
  Ok({"image", "extract", "--rootfs-only", "local/rootfs:1", out});
  EXPECT_EQ(ReadOrEmpty(out + "/etc/motd"), "from a tarball\n");

  // An appc ACI: manifest + rootfs/.
  const std::string aci_dir = os::JoinPath(tmp_->path(), "aci");
  ASSERT_TRUE(os::MkdirAll(aci_dir + "/rootfs/bin"));
  ASSERT_TRUE(os::WriteFile(aci_dir + "/rootfs/bin/tool", "#!/bin/sh\n", 0755));
  ASSERT_TRUE(
      os::WriteFile(aci_dir + "/manifest", R"({"acKind":"ImageManifest","acVersion":"0.8.11",
    "name":"example.com/tool","labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
    {"name":"arch","value":"amd64"}],"app":{"exec":["/bin/tool","-v"],"user":"0","group":"0",
    "workingDirectory":"/srv","environment":[{"name":"MODE","value":"x"}]}})"));
  const std::string aci = os::JoinPath(tmp_->path(), "tool.aci");
  ASSERT_TRUE(RunChecked({"tar", "-C", aci_dir, "-czf", aci, "manifest", "rootfs"}));
  CommandResult fetched = Comet({"fetch", aci});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.Describe();
  nlohmann::json inspect =
      nlohmann::json::parse(Ok({"image", "inspect", "example.com/tool:1.0"}), nullptr, false);
  ASSERT_TRUE(inspect.is_array()) << inspect;
  EXPECT_EQ(inspect[0]["config"]["config"]["Entrypoint"][0], "/bin/tool");
  EXPECT_EQ(inspect[0]["config"]["config"]["WorkingDir"], "/srv");
  const std::string aci_out = os::JoinPath(tmp_->path(), "aci-out");
  Ok({"image", "render", "--rootfs-only", "example.com/tool:1.0", aci_out});
  EXPECT_EQ(ReadOrEmpty(aci_out + "/bin/tool"), "#!/bin/sh\n");
}

TEST_F(ImageCli, HostileArchiveIsRejectedAndLeavesNothing) {
  const std::string sentinel = os::JoinPath(tmp_->path(), "outside");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dotdot", TarBuilder().File("../outside/x", "pwned").Finish()},
      {"symlink", TarBuilder().Symlink("link", "../../outside").File("link/x", "pwned").Finish()},
      {"hardlink", TarBuilder().Hardlink("h", "../../../etc/passwd").Finish()},
      {"truncated-gzip",
       Gzip(TarBuilder().File("a", PseudoRandomBytes(100000, 7)).Finish()).substr(0, 5000)},
  };
  for (const auto& [name, bytes] : cases) {
    const std::string file = os::JoinPath(tmp_->path(), name + ".tar");
    ASSERT_TRUE(os::WriteFile(file, bytes));
    CommandResult r =
        Comet({"image", "import", "--format", "rootfs", "--name", "bad/" + name, file});
    EXPECT_EQ(r.exit_code, 254) << name << ": " << r.Describe();
    EXPECT_FALSE(r.err.empty()) << name;
    EXPECT_FALSE(fs::exists(sentinel)) << name << " wrote outside the store";
  }
  EXPECT_TRUE(ListJson().empty());
  Ok({"image", "gc", "--grace-period=0"});
  EXPECT_TRUE(Blobs().empty());
  const std::string layers = os::JoinPath(data_, "images/layers/sha256");
  EXPECT_TRUE(!fs::exists(layers) || fs::is_empty(layers));
}

TEST_F(ImageCli, RemoveTagAndGarbageCollect) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "gc", "1", SmallImageSpec()));
  const std::string ref = server->host_port() + "/gc:1";
  Ok({"fetch", ref});
  Ok({"image", "tag", ref, "local/other:2"});
  EXPECT_EQ(ListJson()[0]["names"].size(), 2U);
  // Removing one of two names only untags (docker, podman); the last name removes the image.
  EXPECT_EQ(Ok({"image", "rm", "local/other:2"}), "untagged: docker.io/local/other:2\n");
  EXPECT_EQ(ListJson()[0]["names"].size(), 1U);
  Ok({"image", "tag", ref, "local/other:2"});

  CommandResult unknown = Comet({"image", "rm", "nothing/here:1"});
  EXPECT_EQ(unknown.exit_code, 254);
  EXPECT_NE(unknown.err.find("nothing/here"), std::string::npos) << unknown.err;

  // Recently used: kept by the default grace period; a dry run changes nothing.
  Ok({"image", "gc"});
  EXPECT_EQ(ListJson().size(), 1U);
  const std::string dry = Ok({"image", "gc", "--grace-period=0", "--dry-run"});
  EXPECT_NE(dry.find("would remove"), std::string::npos) << dry;
  EXPECT_EQ(ListJson().size(), 1U);
  Ok({"image", "gc", "--grace-period=0"});
  EXPECT_TRUE(ListJson().empty());
  EXPECT_TRUE(Blobs().empty());
}

TEST_F(ImageCli, ProgressBarOnATerminal) {
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "tty", "1", BigImageSpec(2, 4)));
  // script(1) gives the command a pseudo-terminal.
  const std::string command =
      fmt::format("{} --dir {} fetch {}/tty:1", CometBinary(), data_, server->host_port());
  auto r = RunCommand({"script", "-qefc", command, "/dev/null"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->Describe();
  EXPECT_NE(r->out.find("Fetching"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("MB/s"), std::string::npos) << r->out;
}

TEST_F(ImageCli, RootlessFetchAndRender) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to switch to the comet-test user";
  }
  auto uid_text = RunChecked({COMET_SOURCE_DIR "/scripts/ensure-test-user.sh"});
  ASSERT_TRUE(uid_text) << uid_text.error().ToString();
  const std::string uid = uid_text->substr(0, uid_text->find('\n'));
  ASSERT_EQ(::chown(tmp_->path().c_str(), static_cast<uid_t>(std::stoul(uid)), 0), 0);
  ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ASSERT_TRUE(PushImage(*server, "rootless", "1", SmallImageSpec()));
  const std::string ref = server->host_port() + "/rootless:1";
  auto as_user = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"setpriv",    "--reuid",        uid,   "--regid",
                                     uid,          "--clear-groups", "env", "HOME=" + tmp_->path(),
                                     CometBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : CommandResult{};
  };
  CommandResult fetched = as_user({"fetch", ref});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.Describe();
  // The default rootless data dir is $XDG_DATA_HOME/comet, here ~/.local/share/comet.
  EXPECT_TRUE(fs::exists(tmp_->path() + "/.local/share/comet/images/index.json"));
  CommandResult rendered = as_user({"image", "render", "--rootfs-only", ref, tmp_->path() + "/r"});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.Describe();
  EXPECT_EQ(ReadOrEmpty(tmp_->path() + "/r/etc/hello"), "hello from amd64\n");
}

// Rootless with subordinate ids, podman's way: comet re-executes itself as root of a user
// namespace mapping 0 to the user and 1.. to its /etc/subuid range, so a layer file owned by
// 1000 is owned by <subuid start> + 999 on the host, and removal works inside the namespace
// although the user cannot delete those files outside it. Without subordinate ids (a uid with
// no passwd and no subuid entry), only the user's own id is mapped and files are the user's.
TEST_F(ImageCli, RootlessStoreKeepsMappedOwnership) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to switch to unprivileged users";
  }
  auto uid_text = RunChecked({COMET_SOURCE_DIR "/scripts/ensure-test-user.sh"});
  ASSERT_TRUE(uid_text) << uid_text.error().ToString();
  const uid_t uid = static_cast<uid_t>(std::stoul(uid_text->substr(0, uid_text->find('\n'))));
  auto range_start = [](const std::string& file) -> uint64_t {
    auto text = os::ReadFile(file);
    const std::string prefix = "\ncomet-test:";
    const std::string all = "\n" + (text ? *text : "");
    const size_t at = all.find(prefix);
    return at == std::string::npos ? 0 : std::stoull(all.substr(at + prefix.size()));
  };
  const uint64_t subuid = range_start("/etc/subuid");
  const uint64_t subgid = range_start("/etc/subgid");
  ASSERT_GE(subuid, 100000U);
  ASSERT_GE(subgid, 100000U);
  constexpr uid_t kNoSubIds = 54321;  // no passwd entry, so no /etc/subuid line either
  ASSERT_EQ(ReadOrEmpty("/etc/subuid").find(std::to_string(kNoSubIds) + ":"), std::string::npos);

  auto server = StartRegistry();
  ASSERT_TRUE(server);
  ImageSpec spec = SmallImageSpec();
  spec.layers[0].files.push_back(
      {"etc/gone", "removed by the upper layer\n", 0644, LayerFile::Kind::kFile, ""});
  spec.layers[0].files.push_back({"home", "", 0755, LayerFile::Kind::kDir, ""});
  spec.layers.push_back(
      TestLayer{{{"etc/.wh.gone", "", 0644, LayerFile::Kind::kFile, ""},
                 {"home/app", "", 0750, LayerFile::Kind::kDir, "", 1000, 1000},
                 {"home/app/data", "app data\n", 0640, LayerFile::Kind::kFile, "", 1000, 1000}},
                ""});
  ASSERT_TRUE(PushImage(*server, "owned", "1", spec));
  const std::string ref = server->host_port() + "/owned:1";

  // Fetches, renders, removes and collects as `user` with HOME=`home`; expects the layer
  // file of uid/gid 1000 to be owned by want_uid/want_gid on the host.
  auto check = [&](uid_t user, const std::string& home, uint64_t want_uid, uint64_t want_gid) {
    SCOPED_TRACE("uid " + std::to_string(user));
    ASSERT_EQ(::chown(home.c_str(), user, user), 0);
    ASSERT_EQ(::chmod(home.c_str(), 0755), 0);
    auto as_user = [&](std::vector<std::string> args) {
      const std::string id = std::to_string(user);
      std::vector<std::string> argv = {
          "setpriv",        "--reuid",      id,           "--regid",       id,
          "--clear-groups", "env",          "-u",         "XDG_DATA_HOME", "-u",
          "COMET_USERNS",   "HOME=" + home, CometBinary()};
      argv.insert(argv.end(), args.begin(), args.end());
      auto r = RunCommand(argv);
      EXPECT_TRUE(r) << r.error().ToString();
      return r ? *r : CommandResult{};
    };
    CommandResult fetched = as_user({"fetch", ref});
    ASSERT_EQ(fetched.exit_code, 0) << fetched.Describe();
    const std::string layers = home + "/.local/share/comet/images/layers/sha256";
    std::string data_file;
    for (const auto& entry : fs::directory_iterator(layers)) {
      if (fs::exists(entry.path() / "home/app/data")) {
        data_file = entry.path() / "home/app/data";
      }
    }
    ASSERT_FALSE(data_file.empty()) << "no layer tree has home/app/data";
    struct stat st {};
    ASSERT_EQ(::lstat(data_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, want_uid);
    EXPECT_EQ(st.st_gid, want_gid);
    EXPECT_EQ(st.st_mode & 07777, 0640U);
    ASSERT_EQ(::lstat(fs::path(data_file).parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, want_uid);

    CommandResult rendered = as_user({"image", "render", "--rootfs-only", ref, home + "/r"});
    ASSERT_EQ(rendered.exit_code, 0) << rendered.Describe();
    EXPECT_EQ(ReadOrEmpty(home + "/r/home/app/data"), "app data\n");
    EXPECT_EQ(ReadOrEmpty(home + "/r/etc/hello"), "hello from amd64\n");
    EXPECT_FALSE(fs::exists(home + "/r/etc/gone")) << "the whiteout was not applied";
    ASSERT_EQ(::lstat((home + "/r/home/app/data").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, want_uid);
    ASSERT_EQ(::lstat((home + "/r/etc/hello").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, user) << "container root is the user";

    CommandResult removed = as_user({"image", "rm", ref});
    ASSERT_EQ(removed.exit_code, 0) << removed.Describe();
    CommandResult collected = as_user({"image", "gc", "--grace-period=0"});
    ASSERT_EQ(collected.exit_code, 0) << collected.Describe();
    EXPECT_TRUE(!fs::exists(layers) || fs::is_empty(layers)) << "layer trees left behind";
  };
  check(uid, tmp_->path(), subuid + 999, subgid + 999);
  const std::string nosub_home = tmp_->path() + "/nosub";
  ASSERT_TRUE(os::MkdirAll(nosub_home, 0755));
  check(kNoSubIds, nosub_home, kNoSubIds, kNoSubIds);
}

}  // namespace
}  // namespace comet::testing
