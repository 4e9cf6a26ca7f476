// Tests of the volumes conversion (volumes_convert.cc) through ToPodDraft: hostPath, emptyDir,
// configMap and secret seeds, mounts, fsGroup.
#include "kube/volumes_convert.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "kube/to_comet_test_fixture.h"

namespace comet::kube {
namespace {

using fixture::MakePod;
using fixture::MakeVolume;
using fixture::ToPodDraftTest;

TEST_F(ToPodDraftTest, HostPathAndEmptyDirVolumes) {
  Pod pod = MakePod();
  Volume host = MakeVolume("logs", VolumeSourceKind::kHostPath);
  host.path = "/var/log/web/";
  host.host_path_type = "DirectoryOrCreate";
  Volume scratch = MakeVolume("scratch", VolumeSourceKind::kEmptyDir);
  Volume shm = MakeVolume("shm", VolumeSourceKind::kEmptyDir);
  shm.medium = "Memory";
  shm.size_limit = "64Mi";
  Volume cache = MakeVolume("cache", VolumeSourceKind::kEmptyDir);
  cache.size_limit = "1Gi";
  pod.spec.volumes = {host, scratch, shm, cache};
  pod.spec.containers[0].volume_mounts = {
      VolumeMount{.name = "logs", .mount_path = "/logs", .sub_path = "web-0", .read_only = false},
      VolumeMount{.name = "scratch", .mount_path = "/tmp/", .sub_path = "", .read_only = true},
      VolumeMount{.name = "shm", .mount_path = "/dev/shm", .sub_path = "", .read_only = false}};
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.pod.volumes.size(), 4u);
  const pod::Volume& logs = draft.pod.volumes[0];
  EXPECT_EQ(logs.name, "logs");
  EXPECT_EQ(logs.kind, pod::VolumeKind::kHost);
  EXPECT_EQ(logs.source, "/var/log/web");
  EXPECT_TRUE(logs.recursive);
  ASSERT_EQ(draft.host_paths.size(), 1u);
  EXPECT_EQ(draft.host_paths[0].path, "/var/log/web");
  EXPECT_EQ(draft.host_paths[0].type, "DirectoryOrCreate");
  EXPECT_EQ(draft.host_paths[0].field, "spec.volumes[0].hostPath");
  const pod::Volume& tmp = draft.pod.volumes[1];
  EXPECT_EQ(tmp.kind, pod::VolumeKind::kEmpty);
  EXPECT_EQ(tmp.medium, "");
  EXPECT_EQ(tmp.mode, 0777u);
  EXPECT_TRUE(tmp.seed.empty());
  EXPECT_EQ(draft.pod.volumes[2].medium, "memory");
  EXPECT_EQ(draft.pod.volumes[2].size_bytes, 64u << 20);
  EXPECT_EQ(draft.pod.volumes[3].size_bytes, 1u << 30);
  EXPECT_EQ(draft.warnings.back(),
            "spec.volumes[3].emptyDir.sizeLimit: not enforced for a "
            "volume on disk (only with medium Memory)");
  EXPECT_TRUE(draft.seeds.empty());

  const std::vector<pod::MountPoint>& mounts = draft.containers[0].app.mounts;
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].volume, "logs");
  EXPECT_EQ(mounts[0].target, "/logs");
  EXPECT_EQ(mounts[0].sub_path, "web-0");
  EXPECT_FALSE(mounts[0].read_only);
  EXPECT_EQ(mounts[1].target, "/tmp");
  EXPECT_TRUE(mounts[1].read_only);
  EXPECT_EQ(mounts[2].volume, "shm");
}

TEST_F(ToPodDraftTest, FsGroupOwnsThePodsVolumes) {
  Pod pod = MakePod();
  pod.spec.security_context = PodSecurityContext{};
  pod.spec.security_context->fs_group = 2000;
  Volume host = MakeVolume("host", VolumeSourceKind::kHostPath);
  host.path = "/srv";
  pod.spec.volumes = {MakeVolume("data", VolumeSourceKind::kEmptyDir), host};
  PodDraft draft = ConvertOk(pod);
  EXPECT_EQ(draft.pod.volumes[0].gid, 2000u);
  EXPECT_EQ(draft.pod.volumes[0].mode, 02777u);
  EXPECT_EQ(draft.pod.volumes[1].gid, 0u);
  EXPECT_EQ(draft.host_paths[0].type, "");
}

TEST_F(ToPodDraftTest, VolumeErrorsNameTheField) {
  Pod pod = MakePod();
  Volume host = MakeVolume("host", VolumeSourceKind::kHostPath);
  host.path = "relative";
  pod.spec.volumes = {MakeVolume("ok", VolumeSourceKind::kEmptyDir), host};
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[1].hostPath.path: \"relative\": must be an absolute "
            "path without \"..\"");
  pod.spec.volumes[1].path = "/x";
  pod.spec.volumes[1].host_path_type = "Pipe";
  EXPECT_EQ(ConvertError(pod), "spec.volumes[1].hostPath.type: \"Pipe\": unknown hostPath type");
  pod.spec.volumes[1] = MakeVolume("ok", VolumeSourceKind::kEmptyDir);
  EXPECT_EQ(ConvertError(pod), "spec.volumes[1].name: \"ok\": duplicate volume name");
  pod.spec.volumes[1].name = "Bad";
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[1].name: \"Bad\": not a valid volume name (a DNS-1123 label)");
  pod.spec.volumes[1].name = "mem";
  pod.spec.volumes[1].medium = "HugePages";
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[1].emptyDir.medium: \"HugePages\": not supported "
            "(want \"\" or \"Memory\")");
  pod.spec.volumes.pop_back();

  Container& c = pod.spec.containers[0];
  c.volume_mounts = {
      VolumeMount{.name = "nope", .mount_path = "/x", .sub_path = "", .read_only = false}};
  EXPECT_EQ(ConvertError(pod), "spec.containers[0].volumeMounts[0].name: no volume named \"nope\"");
  c.volume_mounts[0].name = "ok";
  c.volume_mounts[0].sub_path = "../escape";
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].volumeMounts[0].subPath: \"../escape\": must "
            "be a relative path without \"..\"");
  c.volume_mounts[0].sub_path = "";
  c.volume_mounts[0].mount_path = "/a/../b";
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].volumeMounts[0].mountPath: \"/a/../b\": must "
            "be an absolute path without \"..\"");
  c.volume_mounts[0].mount_path = "/a";
  c.volume_mounts.push_back(c.volume_mounts[0]);
  EXPECT_EQ(ConvertError(pod),
            "spec.containers[0].volumeMounts[1].mountPath: \"/a\": mounted twice");
}

class SeedTest : public ToPodDraftTest {
 protected:
  void SetUp() override {
    ToPodDraftTest::SetUp();
    ConfigMap config;
    config.metadata.name = "cfg";
    config.metadata.namespace_ = "shop";
    config.data = {{"app.conf", "port=80\n"}, {"level", "debug"}};
    config.binary_data = {{"logo.png", std::string("\x89PNG\0", 5)}};
    objects_.config_maps.push_back(config);
    Secret secret;
    secret.metadata.name = "tls";
    secret.metadata.namespace_ = "shop";
    secret.data = {{"tls.crt", "CERT"}, {"tls.key", "KEY"}};
    objects_.secrets.push_back(secret);
  }

  static Volume ConfigVolume(std::string name, std::string source) {
    Volume v = MakeVolume(std::move(name), VolumeSourceKind::kConfigMap);
    v.source_name = std::move(source);
    return v;
  }
  static Volume SecretVolume(std::string name, std::string source) {
    Volume v = MakeVolume(std::move(name), VolumeSourceKind::kSecret);
    v.source_name = std::move(source);
    return v;
  }
};

TEST_F(SeedTest, EveryKeyWithTheDefaultMode) {
  Pod pod = MakePod();
  Volume config = ConfigVolume("config", "cfg");
  Volume tls = SecretVolume("tls", "tls");
  tls.default_mode = 0400;
  pod.spec.volumes = {config, tls};
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.pod.volumes.size(), 2u);
  const pod::Volume& c = draft.pod.volumes[0];
  EXPECT_EQ(c.kind, pod::VolumeKind::kEmpty);
  EXPECT_EQ(c.medium, "");
  EXPECT_EQ(c.seed, "seed/config");
  EXPECT_TRUE(c.read_only);
  const pod::Volume& t = draft.pod.volumes[1];
  EXPECT_EQ(t.medium, "memory");
  EXPECT_EQ(t.seed, "seed/tls");
  EXPECT_TRUE(t.read_only);

  const std::vector<SeedFile>& files = draft.seeds.at("config");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "app.conf");
  EXPECT_EQ(files[0].content, "port=80\n");
  EXPECT_EQ(files[0].mode, 0644u);
  EXPECT_EQ(files[1].path, "level");
  EXPECT_EQ(files[2].path, "logo.png");
  EXPECT_EQ(files[2].content, std::string("\x89PNG\0", 5));
  const std::vector<SeedFile>& secret_files = draft.seeds.at("tls");
  ASSERT_EQ(secret_files.size(), 2u);
  EXPECT_EQ(secret_files[0].path, "tls.crt");
  EXPECT_EQ(secret_files[0].content, "CERT");
  EXPECT_EQ(secret_files[0].mode, 0400u);
  EXPECT_EQ(secret_files[1].path, "tls.key");
}

TEST_F(SeedTest, ItemsWithPathsAndModes) {
  Pod pod = MakePod();
  Volume config = ConfigVolume("config", "cfg");
  config.default_mode = 0440;
  config.items = {KeyToPath{.key = "app.conf", .path = "etc/app.conf", .mode = 0600},
                  KeyToPath{.key = "logo.png", .path = "img/logo.png", .mode = {}}};
  pod.spec.volumes = {config};
  PodDraft draft = ConvertOk(pod);
  const std::vector<SeedFile>& files = draft.seeds.at("config");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "etc/app.conf");
  EXPECT_EQ(files[0].mode, 0600u);
  EXPECT_EQ(files[1].path, "img/logo.png");
  EXPECT_EQ(files[1].mode, 0440u);

  pod.spec.volumes[0].items[1].path = "../logo.png";
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[0].configMap.items[1].path: \"../logo.png\": must "
            "be a relative path without \"..\"");
  pod.spec.volumes[0].items[1].path = "etc/app.conf";
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[0].configMap.items[1].path: \"etc/app.conf\": given twice");
  pod.spec.volumes[0].items[1] = KeyToPath{.key = "missing", .path = "m", .mode = {}};
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[0].configMap.items[1].key: key \"missing\" not "
            "found in configmap \"cfg\"");
  pod.spec.volumes[0].optional = true;
  EXPECT_EQ(ConvertOk(pod).seeds.at("config").size(), 1u);
  pod.spec.volumes[0].optional = false;
  pod.spec.volumes[0].items[1] = KeyToPath{.key = "level", .path = "l", .mode = 01777};
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[0].configMap.items[1].mode: 1777 is not a file mode "
            "(want 0 to 0777)");
}

TEST_F(SeedTest, MissingObjects) {
  Pod pod = MakePod();
  Volume secret = SecretVolume("creds", "nope");
  pod.spec.volumes = {secret};
  const std::string message = ConvertError(pod);
  EXPECT_EQ(message, "spec.volumes[0].secret: secret \"nope\" not found in namespace \"shop\"");

  pod.spec.volumes[0].optional = true;
  PodDraft draft = ConvertOk(pod);
  ASSERT_EQ(draft.seeds.count("creds"), 1u);
  EXPECT_TRUE(draft.seeds.at("creds").empty());
  EXPECT_EQ(draft.pod.volumes[0].seed, "seed/creds");

  pod.spec.volumes = {ConfigVolume("config", "nope")};
  EXPECT_EQ(ConvertError(pod),
            "spec.volumes[0].configMap: configmap \"nope\" not found in namespace \"shop\"");
}

TEST_F(SeedTest, SecretContentsStayOutOfErrorsAndWarnings) {
  Pod pod = MakePod();
  Volume tls = SecretVolume("tls", "tls");
  tls.items = {KeyToPath{.key = "tls.key", .path = "/abs", .mode = {}}};
  pod.spec.volumes = {tls};
  const std::string message = ConvertError(pod);
  EXPECT_EQ(message.find("KEY"), std::string::npos) << message;
}

}  // namespace
}  // namespace comet::kube
