// The supervisor hands each app's spec to the runtime in memory (runtime::CreateOptions::spec)
// instead of writing config.json for the runtime to read back: that is only sound when the
// spec it builds is exactly what the runtime would have read, which these tests check.
#include <gtest/gtest.h>

#include "oci/spec_json.h"
#include "oci/validate.h"
#include "supervisor/app_spec.h"

namespace comet::supervisor {
namespace {

pod::PodManifest Manifest() {
  pod::PodManifest manifest;
  manifest.uuid = "0a1b2c3d-0000-4000-8000-000000000002";
  pod::App app;
  app.name = "web";
  app.image = "busybox";
  app.image_id = "sha256:" + std::string(64, 'b');
  app.exec = {"/bin/sh", "-c", "echo \"quoted\" \\ and ünïcode"};
  app.env = {"FOO=bar", "EMPTY="};
  app.read_only_rootfs = true;
  manifest.apps.push_back(app);
  pod::Volume data;
  data.name = "data";
  data.kind = pod::VolumeKind::kEmpty;
  manifest.volumes.push_back(data);
  manifest.annotations = {{"org.example/note", "x"}};
  return manifest;
}

AppSpecInput Input(const pod::PodManifest& manifest, bool rootless) {
  AppSpecInput input;
  input.manifest = &manifest;
  input.app = manifest.apps.data();
  input.pod_dir = "/var/lib/comet/pods/run/" + manifest.uuid;
  input.supervisor_pid = 4242;
  input.pid_namespace_holder = rootless ? 0 : 4243;
  input.user.uid = 1000;
  input.user.gid = 1000;
  input.user.home = "/home/u";
  input.resolv_conf = true;
  return input;
}

TEST(AppSpecRoundTripTest, InMemorySpecEqualsWhatTheRuntimeWouldRead) {
  for (bool rootless : {false, true}) {
    pod::PodManifest manifest = Manifest();
    manifest.rootless = rootless;
    auto spec = BuildAppSpec(Input(manifest, rootless));
    ASSERT_TRUE(spec) << spec.error().ToString();
    const std::string json = oci::SpecToJson(*spec);
    auto parsed = oci::ParseSpec(json);
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    // Serialising is lossless for what the supervisor builds: the runtime gets the same spec.
    EXPECT_EQ(oci::SpecToJson(*parsed), json);
    EXPECT_TRUE(parsed->linux_config && parsed->linux_config->seccomp);
    oci::ValidateOptions validate;
    validate.rootless = rootless;
    auto in_memory = oci::Validate(*spec, validate);
    auto from_disk = oci::Validate(*parsed, validate);
    EXPECT_EQ(static_cast<bool>(in_memory), static_cast<bool>(from_disk));
    EXPECT_TRUE(in_memory) << in_memory.error().ToString();
  }
}

}  // namespace
}  // namespace comet::supervisor
