// Tests of an app's devices in the pod manifest: JSON round trip, omission when empty,
// validation errors naming the field.
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pod/manifest.h"

namespace comet::pod {
namespace {

using ::testing::HasSubstr;

PodManifest WithApp() {
  PodManifest m;
  m.uuid = "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f";
  m.created = "2026-11-29T12:00:00.123456789Z";
  App app;
  app.name = "gpu";
  app.image = "busybox";
  app.image_id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  app.exec = {"/bin/sh"};
  m.apps.push_back(app);
  return m;
}

AppDevice Device(std::string path, std::string host_path, char type, int64_t major, int64_t minor) {
  AppDevice d;
  d.path = std::move(path);
  d.host_path = std::move(host_path);
  d.type = type;
  d.major = major;
  d.minor = minor;
  return d;
}

PodManifest WithDevices() {
  PodManifest m = WithApp();
  App& app = m.apps[0];
  app.cdi_devices = {"nvidia.com/gpu=0"};
  AppDevice gpu = Device("/dev/nvidia0", "/dev/nvidia0", 'c', 195, 0);
  gpu.file_mode = 0660;
  gpu.permissions = "rw";
  gpu.uid = 0;
  gpu.gid = 44;
  app.devices = {gpu, Device("/dev/sdz", "/dev/sda", 'b', 8, 0),
                 Device("/run/f", "/run/f", 'p', 0, 0)};
  app.bind_mounts = {{"/usr/lib/libcuda.so.1", "/usr/lib/libcuda.so.1", {"ro", "nosuid"}},
                     {"/opt/driver", "/driver", {}}};
  AppHook hook;
  hook.stage = "createContainer";
  hook.path = "/usr/bin/nvidia-ctk";
  hook.args = {"nvidia-ctk", "hook", "update-ldcache"};
  hook.env = {"A=b"};
  hook.timeout = 10;
  AppHook bare;
  bare.stage = "poststop";
  bare.path = "/bin/true";
  app.hooks = {hook, bare};
  return m;
}

TEST(ManifestDevices, RoundTrip) {
  const PodManifest m = WithDevices();
  ASSERT_TRUE(ValidateManifest(m)) << ValidateManifest(m).error().ToString();
  const std::string json = ManifestToJson(m, false);
  auto back = ParseManifest(json);
  ASSERT_TRUE(back) << back.error().ToString();
  const App& app = back->apps.at(0);
  EXPECT_EQ(app.cdi_devices, std::vector<std::string>{"nvidia.com/gpu=0"});
  ASSERT_EQ(app.devices.size(), 3U);
  EXPECT_EQ(app.devices[0].path, "/dev/nvidia0");
  EXPECT_EQ(app.devices[0].type, 'c');
  EXPECT_EQ(app.devices[0].major, 195);
  EXPECT_EQ(app.devices[0].file_mode, 0660U);
  EXPECT_EQ(app.devices[0].permissions, "rw");
  EXPECT_EQ(app.devices[0].uid, 0U);
  EXPECT_EQ(app.devices[0].gid, 44U);
  EXPECT_EQ(app.devices[1].host_path, "/dev/sda");
  EXPECT_EQ(app.devices[1].type, 'b');
  EXPECT_EQ(app.devices[1].permissions, "rwm");
  EXPECT_FALSE(app.devices[1].file_mode);
  EXPECT_FALSE(app.devices[1].uid);
  EXPECT_EQ(app.devices[2].type, 'p');
  ASSERT_EQ(app.bind_mounts.size(), 2U);
  EXPECT_EQ(app.bind_mounts[0].options, (std::vector<std::string>{"ro", "nosuid"}));
  EXPECT_EQ(app.bind_mounts[1].container_path, "/driver");
  ASSERT_EQ(app.hooks.size(), 2U);
  EXPECT_EQ(app.hooks[0].stage, "createContainer");
  EXPECT_EQ(app.hooks[0].args.size(), 3U);
  EXPECT_EQ(app.hooks[0].env, std::vector<std::string>{"A=b"});
  EXPECT_EQ(app.hooks[0].timeout, 10);
  EXPECT_FALSE(app.hooks[1].timeout);
  EXPECT_EQ(ManifestToJson(*back, false), json);
}

// Manifests of apps without devices are written as before the fields existed.
TEST(ManifestDevices, OmittedWhenEmpty) {
  const std::string json = ManifestToJson(WithApp(), false);
  for (const char* key : {"cdi_devices", "\"devices\"", "bind_mounts", "\"hooks\""}) {
    EXPECT_THAT(json, ::testing::Not(HasSubstr(key))) << json;
  }
  EXPECT_THAT(ManifestToJson(WithDevices(), false), HasSubstr("\"bind_mounts\""));
}

TEST(ManifestDevices, ValidationNamesTheField) {
  struct Case {
    std::function<void(App&)> change;
    std::string error;
  };
  const Case cases[] = {
      {[](App& a) { a.devices[0].path = "dev/x"; }, "apps[0].devices[0].path"},
      {[](App& a) { a.devices[0].path = "/dev/../etc/x"; }, "apps[0].devices[0].path"},
      {[](App& a) { a.devices[0].host_path = ""; }, "apps[0].devices[0].host_path"},
      {[](App& a) { a.devices[0].type = 'u'; }, "apps[0].devices[0].type"},
      {[](App& a) { a.devices[0].major = 4096; }, "apps[0].devices[0].major"},
      {[](App& a) { a.devices[0].minor = -1; }, "apps[0].devices[0].major"},
      {[](App& a) { a.devices[0].file_mode = 010000; }, "apps[0].devices[0].file_mode"},
      {[](App& a) { a.devices[0].permissions = ""; }, "apps[0].devices[0].permissions"},
      {[](App& a) { a.devices[0].permissions = "rwx"; }, "apps[0].devices[0].permissions"},
      {[](App& a) { a.devices[0].permissions = "rr"; }, "apps[0].devices[0].permissions"},
      {[](App& a) { a.devices[1].path = a.devices[0].path; }, "apps[0].devices[1].path"},
      {[](App& a) { a.bind_mounts[0].host_path = "lib"; }, "apps[0].bind_mounts[0].host_path"},
      {[](App& a) { a.bind_mounts[0].container_path = "/a/../b"; },
       "apps[0].bind_mounts[0].container_path"},
      {[](App& a) { a.bind_mounts[0].options = {"ro,exec"}; }, "apps[0].bind_mounts[0].options[0]"},
      {[](App& a) { a.bind_mounts[0].options = {""}; }, "apps[0].bind_mounts[0].options[0]"},
      {[](App& a) { a.hooks[0].stage = "prestop"; }, "apps[0].hooks[0].stage"},
      {[](App& a) { a.hooks[0].path = "nvidia-ctk"; }, "apps[0].hooks[0].path"},
      {[](App& a) { a.hooks[0].timeout = 0; }, "apps[0].hooks[0].timeout"},
      {[](App& a) { a.hooks[0].args.emplace_back("a\0b", 3); }, "apps[0].hooks[0].args[3]"},
      {[](App& a) { a.cdi_devices = {"x\ny"}; }, "apps[0].cdi_devices[0]"},
  };
  for (const Case& c : cases) {
    PodManifest m = WithDevices();
    c.change(m.apps[0]);
    Status valid = ValidateManifest(m);
    ASSERT_FALSE(valid) << c.error;
    EXPECT_THAT(valid.error().ToString(), HasSubstr(c.error));
  }
}

TEST(ManifestDevices, ParseRefusesWrongTypes) {
  std::string json = ManifestToJson(WithDevices(), false);
  std::string bad_type = json;
  bad_type.replace(bad_type.find(R"("type":"c")"), 10, R"("type":"cb")");
  auto parsed = ParseManifest(bad_type);
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().ToString(), HasSubstr("apps[0].devices[0].type"));
  std::string bad_mode = json;
  bad_mode.replace(bad_mode.find(R"("file_mode":432)"), 15, R"("file_mode":"x")");
  auto mode = ParseManifest(bad_mode);
  ASSERT_FALSE(mode);
  EXPECT_THAT(mode.error().ToString(), HasSubstr("apps[0].devices[0].file_mode"));
}

}  // namespace
}  // namespace comet::pod
