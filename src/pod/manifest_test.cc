// Tests for the pod manifest: JSON round trip, validation errors naming the field, the file,
// UUIDs.
#include "pod/manifest.h"

#include <filesystem>
#include <functional>
#include <iterator>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_dir.h"

namespace comet::pod {
namespace {

using ::testing::HasSubstr;

constexpr const char* kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Volume Vol(std::string name, VolumeKind kind = VolumeKind::kEmpty, std::string source = "") {
  Volume v;
  v.name = std::move(name);
  v.kind = kind;
  v.source = std::move(source);
  return v;
}

MountPoint Mount(std::string volume, std::string target, bool read_only = false) {
  MountPoint m;
  m.volume = std::move(volume);
  m.target = std::move(target);
  m.read_only = read_only;
  return m;
}

App MinimalApp(std::string name) {
  App app;
  app.name = std::move(name);
  app.image = "busybox";
  app.image_id = kDigest;
  app.exec = {"/bin/sh", "-c", "echo hi"};
  return app;
}

PodManifest MinimalManifest() {
  PodManifest m;
  m.uuid = "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f";
  m.created = "2026-11-29T12:00:00.123456789Z";
  m.apps.push_back(MinimalApp("web"));
  return m;
}

PortMapping Port(std::string host_ip, uint32_t host_port, uint32_t pod_port) {
  PortMapping port;
  port.host_ip = std::move(host_ip);
  port.host_port = host_port;
  port.pod_port = pod_port;
  return port;
}

PodManifest FullManifest() {
  PodManifest m = MinimalManifest();
  m.name = "my-pod";
  m.net = NetMode::kHost;
  m.hostname = "box.example";
  m.dns = {"127.0.0.53", "::1"};
  m.dns_search = {"example.com"};
  m.dns_opt = {"ndots:2"};
  m.hosts_entries = {{"10.0.0.5", {"db", "db.example"}}};
  m.share_pid = true;
  m.mutable_pod = true;
  m.rootless = true;
  m.stop_grace_seconds = 3;
  m.annotations = {{"a", "b"}};
  Volume host = Vol("data", VolumeKind::kHost, "/srv/data");
  host.read_only = true;
  host.recursive = false;
  Volume scratch = Vol("scratch");
  scratch.medium = "memory";
  scratch.size_bytes = 64 << 20;
  scratch.mode = 01777;
  scratch.uid = 1000;
  scratch.gid = 100;
  m.volumes = {host, scratch};
  App& app = m.apps[0];
  app.image_config_id = "sha256:" + std::string(64, 'c');
  app.env = {"PATH=/bin", "A=b=c"};
  app.working_dir = "/srv";
  app.user = "1000";
  app.group = "nogroup";
  app.supplementary_gids = {10, 20};
  app.read_only_rootfs = true;
  app.caps_retain = {"CAP_NET_BIND_SERVICE"};
  app.caps_remove = {"CAP_SYS_ADMIN"};
  app.resources.cpu_millis = 750;
  app.resources.cpu_shares = 512;
  app.resources.memory_bytes = 128 << 20;
  app.resources.pids = 64;
  app.resources.oom_score_adj = -500;
  app.mounts = {Mount("data", "/data", true), Mount("scratch", "/tmp")};
  app.restart = RestartPolicy::kOnFailure;
  app.stdin = true;
  app.tty = true;
  app.annotations = {{"k", "v"}};
  App init = MinimalApp("setup");
  init.init = true;
  m.apps.insert(m.apps.begin(), init);
  return m;
}

std::string ErrorOf(const PodManifest& m) {
  auto st = ValidateManifest(m);
  return st ? "" : st.error().message();
}

TEST(ManifestTest, RoundTripsEveryField) {
  PodManifest m = FullManifest();
  ASSERT_TRUE(ValidateManifest(m)) << ErrorOf(m);
  std::string json = ManifestToJson(m, false);
  auto parsed = ParseManifest(json);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(ManifestToJson(*parsed, false), json);
  EXPECT_EQ(parsed->apps[1].resources.oom_score_adj, -500);
  EXPECT_EQ(parsed->apps[1].restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(parsed->volumes[1].mode, 01777u);
  EXPECT_EQ(parsed->net, NetMode::kHost);
  EXPECT_EQ(parsed->hosts_entries[0].names[1], "db.example");
  EXPECT_EQ(parsed->apps[1].image_config_id, "sha256:" + std::string(64, 'c'));
  // Pretty output parses to the same thing.
  auto pretty = ParseManifest(ManifestToJson(m, true));
  ASSERT_TRUE(pretty);
  EXPECT_EQ(ManifestToJson(*pretty, false), json);
}

TEST(ManifestTest, RoundTripsNetworksAndPorts) {
  PodManifest m = MinimalManifest();
  m.net = NetMode::kNetworks;
  m.networks = {"default", "backend.v2"};
  m.ports = {Port("", 8080, 80), Port("::1", 5353, 53)};
  m.ports[1].protocol = "udp";
  m.ports[1].name = "53-udp";
  ASSERT_TRUE(ValidateManifest(m)) << ErrorOf(m);
  auto parsed = ParseManifest(ManifestToJson(m, false));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->net, NetMode::kNetworks);
  EXPECT_EQ(parsed->networks, m.networks);
  ASSERT_EQ(parsed->ports.size(), 2U);
  EXPECT_EQ(parsed->ports[1].host_ip, "::1");
  EXPECT_EQ(parsed->ports[1].pod_port, 53U);
  EXPECT_EQ(parsed->ports[1].protocol, "udp");
  EXPECT_EQ(parsed->ports[1].name, "53-udp");
  m.net = NetMode::kNetns;
  m.networks.clear();
  m.ports.clear();
  m.netns = "/run/netns/blue";
  parsed = ParseManifest(ManifestToJson(m, false));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->netns, "/run/netns/blue");
}

TEST(ManifestTest, RoundTripsKubernetesFields) {
  PodManifest m = MinimalManifest();
  m.host_pid = true;
  m.host_ipc = true;
  Volume config = Vol("config");
  config.seed = "seed/config";
  m.volumes = {config};
  m.apps[0].mounts = {Mount("config", "/etc/app")};
  m.apps[0].mounts[0].sub_path = "conf.d/app";
  ASSERT_TRUE(ValidateManifest(m)) << ErrorOf(m);
  const std::string json = ManifestToJson(m, false);
  EXPECT_THAT(json, HasSubstr(R"("seed":"seed/config")"));
  EXPECT_THAT(json, HasSubstr(R"("sub_path":"conf.d/app")"));
  auto parsed = ParseManifest(json);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->host_pid);
  EXPECT_TRUE(parsed->host_ipc);
  EXPECT_EQ(parsed->volumes[0].seed, "seed/config");
  EXPECT_EQ(parsed->apps[0].mounts[0].sub_path, "conf.d/app");
  EXPECT_EQ(ManifestToJson(*parsed, false), json);
  // Absent when unused: manifests without them read and write as before.
  const std::string plain = ManifestToJson(MinimalManifest(), false);
  for (const char* field : {"seed", "sub_path", "host_pid", "host_ipc"}) {
    EXPECT_THAT(plain, ::testing::Not(HasSubstr(field)));
  }
}

TEST(ManifestTest, KubernetesFieldsAreValidated) {
  PodManifest m = MinimalManifest();
  m.volumes = {Vol("v")};
  m.apps[0].mounts = {Mount("v", "/v")};
  for (const char* bad : {"../x", "/abs", "a/../b", "./a"}) {
    m.apps[0].mounts[0].sub_path = bad;
    EXPECT_THAT(ErrorOf(m), HasSubstr("apps[0].mounts[0].sub_path")) << bad;
  }
  m.apps[0].mounts[0].sub_path.clear();
  m.volumes[0].seed = "../etc";
  EXPECT_THAT(ErrorOf(m), HasSubstr("volumes[0].seed"));
  m.volumes[0].seed = "apps/x/rootfs";  // in the pod dir, but where an app controls the path
  EXPECT_THAT(ErrorOf(m), HasSubstr("volumes[0].seed"));
  m.volumes[0] = Vol("v", VolumeKind::kHost, "/srv");
  m.volumes[0].seed = "seed/v";
  EXPECT_THAT(ErrorOf(m), HasSubstr("volumes[0].seed"));
  m.volumes[0].seed.clear();
  m.host_pid = true;
  m.share_pid = true;
  EXPECT_THAT(ErrorOf(m), HasSubstr("host_pid"));
  m.share_pid = false;
  m.rootless = true;
  EXPECT_THAT(ErrorOf(m), HasSubstr("host_pid"));
  m.host_pid = false;
  m.host_ipc = true;
  EXPECT_THAT(ErrorOf(m), HasSubstr("host_ipc"));
  m.rootless = false;
  EXPECT_EQ(ErrorOf(m), "");
}

TEST(ManifestTest, UsesSnakeCaseFieldNames) {
  std::string json = ManifestToJson(FullManifest(), false);
  for (const char* field :
       {"\"image_id\":", "\"image_config_id\":", "\"read_only_rootfs\":true",
        "\"caps_retain\":", "\"cpu_millis\":750", R"("restart":"OnFailure")", R"("net":"host")",
        R"("kind":"host")", R"("kind":"empty")", "\"oom_score_adj\":-500",
        "\"stop_grace_seconds\":3", "\"mutable_pod\":true"}) {
    EXPECT_THAT(json, HasSubstr(field));
  }
  // No oom_score_adj when unset.
  EXPECT_THAT(ManifestToJson(MinimalManifest(), false), ::testing::Not(HasSubstr("oom_score")));
}

TEST(ManifestTest, DefaultsForAbsentFieldsAndUnknownFieldsIgnored) {
  auto m = ParseManifest(
      R"({"version":1,"uuid":"0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f","future":{"x":1},)"
      R"("apps":[{"name":"a","image_id":")" +
      std::string(kDigest) + R"(","exec":["/bin/true"],"new_field":null}]})");
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->apps[0].working_dir, "/");
  EXPECT_EQ(m->apps[0].user, "0");
  EXPECT_EQ(m->apps[0].restart, RestartPolicy::kNever);
  EXPECT_EQ(m->net, NetMode::kNone);
  EXPECT_EQ(m->stop_grace_seconds, 10);
  // Manifests from before the config digest was recorded.
  EXPECT_EQ(m->apps[0].image_id, kDigest);
  EXPECT_EQ(m->apps[0].image_config_id, "");
}

// ParseManifest's errors name the JSON path of the bad field.
TEST(ManifestTest, ParseErrorsNameTheField) {
  std::string app = R"({"name":"a","image_id":")" + std::string(kDigest) + R"(","exec":["/x"]})";
  std::string head = R"({"version":1,"uuid":"0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f",)";
  struct Case {
    std::string json;
    std::string want;
  } cases[] = {
      {head + R"("apps":[)" + app + R"(,{"name":7}]})",
       "apps[1].name: expected string, got number"},
      {head + R"("apps":[{"exec":["/x",1]}]})", "apps[0].exec[1]: expected string"},
      {head + R"("apps":[{"resources":{"cpu_shares":-1}}]})",
       "apps[0].resources.cpu_shares: must not be negative"},
      {head + R"("apps":[{"mounts":[{"read_only":"yes"}]}]})",
       "apps[0].mounts[0].read_only: expected boolean"},
      {head + R"("apps":[{"restart":"Sometimes"}]})", "apps[0].restart: unknown restart policy"},
      {head + R"("volumes":[{"name":"v","kind":"nfs"}]})", "volumes[0].kind: \"nfs\""},
      {head + R"("net":"default"})", "net: \"default\""},
      {head + R"("apps":{}})", "apps: expected array, got object"},
      {head + R"("volumes":[{"mode":4294967296}]})", "volumes[0].mode: 4294967296 is out of range"},
      {R"({"uuid":"x"})", "version: missing"},
      {R"({"version":2})", "unsupported manifest version 2"},
      {R"({"version":1.5})", "version: expected integer"},
      {R"([1])", "expected a JSON object, got array"},
      {R"({"version":)", "invalid JSON"},
      {std::string(40, '[') + std::string(40, ']'), "nested deeper"},
  };
  for (const Case& c : cases) {
    auto m = ParseManifest(c.json);
    ASSERT_FALSE(m) << c.json;
    EXPECT_THAT(m.error().message(), HasSubstr(c.want)) << c.json;
    EXPECT_EQ(m.error().code(), EINVAL);
  }
}

TEST(ManifestTest, RejectsOversizedInput) {
  std::string big = R"({"version":1,"name":")" + std::string(kMaxManifestBytes, 'x') + "\"}";
  auto m = ParseManifest(big);
  ASSERT_FALSE(m);
  EXPECT_THAT(m.error().message(), HasSubstr("more than the limit"));
}

TEST(ManifestTest, ValidationErrorsNameTheField) {
  struct Case {
    std::function<void(PodManifest&)> edit;
    std::string want;
  } cases[] = {
      {[](PodManifest& m) { m.apps.push_back(m.apps[0]); },
       "apps[1].name: \"web\": duplicate app name"},
      {[](PodManifest& m) { m.apps[0].name = "Web"; }, "apps[0].name: \"Web\": invalid app name"},
      {[](PodManifest& m) { m.apps[0].name = "-a"; }, "apps[0].name"},
      {[](PodManifest& m) { m.apps[0].name = "a/b"; }, "apps[0].name"},
      {[](PodManifest& m) { m.apps[0].name = std::string(64, 'a'); }, "apps[0].name"},
      {[](PodManifest& m) { m.apps[0].exec.clear(); }, "apps[0].exec: no command to run"},
      {[](PodManifest& m) { m.apps[0].exec = {""}; }, "apps[0].exec: no command to run"},
      {[](PodManifest& m) { m.apps[0].exec.emplace_back("a\0b", 3); },
       "apps[0].exec[3]: contains a NUL byte"},
      {[](PodManifest& m) {
         m.apps[0].env = {"A=1", "novalue"};
       },
       "apps[0].env[1]"},
      {[](PodManifest& m) { m.apps[0].env = {"=x"}; }, "apps[0].env[0]"},
      {[](PodManifest& m) { m.apps[0].image_id = ""; }, "apps[0].image_id"},
      {[](PodManifest& m) { m.apps[0].image_id = "sha256:abc"; }, "apps[0].image_id"},
      {[](PodManifest& m) { m.apps[0].image_config_id = "abc"; }, "apps[0].image_config_id"},
      {[](PodManifest& m) { m.apps[0].working_dir = "srv"; }, "apps[0].working_dir"},
      {[](PodManifest& m) { m.apps[0].working_dir = "/a/../b"; }, "apps[0].working_dir"},
      {[](PodManifest& m) { m.apps[0].user = ""; }, "apps[0].user"},
      {[](PodManifest& m) { m.apps[0].caps_retain = {"NET_ADMIN"}; }, "apps[0].caps_retain[0]"},
      {[](PodManifest& m) { m.apps[0].caps_remove = {"CAP_a"}; }, "apps[0].caps_remove[0]"},
      {[](PodManifest& m) { m.apps[0].caps_retain = {"CAP_FLY"}; },
       "apps[0].caps_retain[0]: \"CAP_FLY\": unknown capability"},
      {[](PodManifest& m) { m.apps[0].resources.memory_bytes = -1; },
       "apps[0].resources.memory_bytes: must not be negative"},
      {[](PodManifest& m) { m.apps[0].resources.cpu_millis = -1; }, "apps[0].resources.cpu_millis"},
      {[](PodManifest& m) { m.apps[0].resources.pids = -1; }, "apps[0].resources.pids"},
      {[](PodManifest& m) { m.apps[0].resources.oom_score_adj = 1001; },
       "apps[0].resources.oom_score_adj: 1001 is outside [-1000, 1000]"},
      {[](PodManifest& m) { m.apps[0].mounts = {Mount("nope", "/x")}; },
       "apps[0].mounts[0].volume: \"nope\": no such volume in the pod"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v")};
         m.apps[0].mounts = {Mount("v", "x")};
       },
       "apps[0].mounts[0].target"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v")};
         m.apps[0].mounts = {Mount("v", "/a/../../etc")};
       },
       "apps[0].mounts[0].target"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v")};
         m.apps[0].mounts = {Mount("v", "/a"), Mount("v", "/a")};
       },
       "apps[0].mounts[1].target: \"/a\": mounted twice"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v"), Vol("v")};
       },
       "volumes[1].name: \"v\": duplicate volume name"},
      {[](PodManifest& m) { m.volumes = {Vol("V")}; }, "volumes[0].name"},
      {[](PodManifest& m) { m.volumes = {Vol("v", VolumeKind::kHost, "rel")}; },
       "volumes[0].source"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v")};
         m.volumes[0].medium = "disk";
       },
       "volumes[0].medium"},
      {[](PodManifest& m) {
         m.volumes = {Vol("v")};
         m.volumes[0].mode = 010000;
       },
       "volumes[0].mode"},
      {[](PodManifest& m) { m.uuid = "0D9B5B3C-7A2E-4C1F-9E4B-2F6A8C1D3E5F"; }, "uuid:"},
      {[](PodManifest& m) { m.created = "yesterday"; }, "created:"},
      {[](PodManifest& m) { m.hostname = "bad_host"; }, "hostname:"},
      {[](PodManifest& m) { m.dns = {"1.2.3.4\nnameserver 6.6.6.6"}; }, "dns[0]:"},
      {[](PodManifest& m) { m.dns_search = {"a b"}; }, "dns_search[0]:"},
      {[](PodManifest& m) { m.dns_opt = {"x\n"}; }, "dns_opt[0]:"},
      {[](PodManifest& m) { m.stop_grace_seconds = -1; }, "stop_grace_seconds"},
      {[](PodManifest& m) { m.apps.clear(); }, "apps: a pod needs at least one app"},
      {[](PodManifest& m) { m.version = 2; }, "version"},
      {[](PodManifest& m) { m.net = NetMode::kNetworks; }, "networks: a pod on contained"},
      {[](PodManifest& m) { m.networks = {"default"}; }, "networks: only with net \"networks\""},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default", "../x"};
       },
       "networks[1]: name: invalid network name \"../x\""},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"a", "a"};
       },
       "networks[1]: \"a\": network listed twice"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetns;
         m.netns = "/run/netns/../x";
       },
       "netns:"},
      {[](PodManifest& m) { m.netns = "/run/netns/x"; }, "netns: only with net \"netns\""},
      {[](PodManifest& m) { m.ports = {Port("", 8080, 80)}; },
       "ports: published ports need contained networks"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default"};
         m.ports = {Port("", 8080, 0)};
       },
       "ports[0].pod_port: 0: expected a port in 1-65535"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default"};
         m.ports = {Port("", 70000, 80)};
       },
       "ports[0].host_port"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default"};
         m.ports = {Port("", 8080, 80), Port("", 8080, 81)};
       },
       "ports[1].host_port: 8080/tcp on every address is published twice"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default"};
         m.ports = {Port("localhost", 8080, 80)};
       },
       "ports[0].host_ip"},
      {[](PodManifest& m) {
         m.net = NetMode::kNetworks;
         m.networks = {"default"};
         m.ports = {Port("", 8080, 80)};
         m.ports[0].protocol = "sctp";
       },
       "ports[0].protocol"},
      {[](PodManifest& m) {
         m.hosts_entries = {{"db", {"x"}}};
       },
       "hosts_entries[0].ip"},
      {[](PodManifest& m) {
         m.hosts_entries = {{"10.0.0.1", {}}};
       },
       "hosts_entries[0].names"},
      {[](PodManifest& m) {
         m.hosts_entries = {{"10.0.0.1", {"a b"}}};
       },
       "hosts_entries[0].names[0]"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    PodManifest m = MinimalManifest();
    cases[i].edit(m);
    EXPECT_THAT(ErrorOf(m), HasSubstr(cases[i].want)) << "case " << i;
  }
  PodManifest sandbox = MinimalManifest();
  sandbox.apps.clear();
  sandbox.mutable_pod = true;
  EXPECT_EQ(ErrorOf(sandbox), "");
}

TEST(ManifestTest, ValidNames) {
  for (const char* ok : {"a", "web", "a-b.c_d", "0", "busybox", "x9"}) {
    EXPECT_TRUE(IsValidName(ok)) << ok;
  }
  for (const char* bad : {"", "A", "a-", ".a", "..", "a b", "a/b", "ä"}) {
    EXPECT_FALSE(IsValidName(bad)) << bad;
  }
  EXPECT_TRUE(IsValidName(std::string(kMaxNameLength, 'a')));
  EXPECT_FALSE(IsValidName(std::string(kMaxNameLength + 1, 'a')));
}

TEST(ManifestTest, RestartPolicyNames) {
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kNever), "Never");
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kOnFailure), "OnFailure");
  EXPECT_EQ(RestartPolicyName(RestartPolicy::kAlways), "Always");
  EXPECT_EQ(ParseRestartPolicy("onfailure").value(), RestartPolicy::kOnFailure);
  EXPECT_EQ(ParseRestartPolicy("ALWAYS").value(), RestartPolicy::kAlways);
  EXPECT_EQ(ParseRestartPolicy("Never").value(), RestartPolicy::kNever);
  EXPECT_FALSE(ParseRestartPolicy("no"));
  EXPECT_FALSE(ParseRestartPolicy(""));
  EXPECT_FALSE(ParseRestartPolicy("Neverr"));
}

TEST(ManifestTest, WriteAndReadFile) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  PodManifest m = FullManifest();
  ASSERT_TRUE(WriteManifest(dir->path(), m));
  auto read = ReadManifest(dir->path());
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(ManifestToJson(*read, false), ManifestToJson(m, false));
  // No temp file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir->path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(ManifestTest, WriteRejectsInvalidAndLeavesNoFile) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  PodManifest m = MinimalManifest();
  m.apps[0].exec.clear();
  auto st = WriteManifest(dir->path(), m);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().ToString(), HasSubstr("apps[0].exec"));
  EXPECT_FALSE(os::Exists(os::JoinPath(dir->path(), kManifestFile)));
}

TEST(ManifestTest, ReadErrors) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  auto missing = ReadManifest(dir->path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  ASSERT_TRUE(os::WriteFile(os::JoinPath(dir->path(), kManifestFile), R"({"version":1,"apps":5})"));
  auto bad = ReadManifest(dir->path());
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().ToString(), HasSubstr("apps: expected array"));
  EXPECT_THAT(bad.error().ToString(), HasSubstr(kManifestFile));
}

TEST(ManifestTest, NewUuidIsRandomVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string uuid = NewUuid();
    ASSERT_TRUE(IsValidUuid(uuid)) << uuid;
    EXPECT_EQ(uuid[14], '4') << uuid;
    EXPECT_THAT(std::string("89ab"), HasSubstr(std::string(1, uuid[19]))) << uuid;
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ManifestTest, IsValidUuid) {
  EXPECT_TRUE(IsValidUuid("0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f"));
  for (const char* bad :
       {"", "0d9b5b3c", "0D9B5B3C-7A2E-4C1F-9E4B-2F6A8C1D3E5F",
        "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5", "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5ff",
        "0d9b5b3c_7a2e-4c1f-9e4b-2f6a8c1d3e5f", "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5g",
        "../../../../../../../../../etc/pass"}) {
    EXPECT_FALSE(IsValidUuid(bad)) << bad;
  }
}

}  // namespace
}  // namespace comet::pod
