// Tests that an app's devices, bind mounts and hooks land in its OCI spec (BuildAppSpec), as
// root and rootless.
#include "supervisor/app_devices.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "oci/validate.h"
#include "supervisor/app_spec.h"

namespace comet::supervisor {
namespace {

pod::AppDevice Device(std::string path, std::string host_path, char type, int64_t major,
                      int64_t minor) {
  pod::AppDevice d;
  d.path = std::move(path);
  d.host_path = std::move(host_path);
  d.type = type;
  d.major = major;
  d.minor = minor;
  return d;
}

pod::PodManifest GpuManifest(bool rootless) {
  pod::PodManifest manifest;
  manifest.uuid = "0a1b2c3d-0000-4000-8000-000000000002";
  manifest.rootless = rootless;
  pod::App app;
  app.name = "gpu";
  app.image = "busybox";
  app.image_id = "sha256:" + std::string(64, 'b');
  app.exec = {"/bin/sh"};
  app.env = {"FAKE_GPU_VISIBLE=0"};  // where stage0 merged the CDI env
  app.supplementary_gids = {44};     // and the CDI additionalGids
  pod::AppDevice gpu = Device("/dev/fakegpu0", "/tmp/host/fakegpu0", 'c', 1, 3);
  gpu.permissions = "rw";
  gpu.file_mode = 0660;
  gpu.gid = 44;
  app.devices = {gpu, Device("/dev/fakedisk", "/tmp/host/disk", 'b', 7, 0),
                 Device("/dev/fakefifo", "/tmp/host/fifo", 'p', 0, 0)};
  app.bind_mounts = {{"/tmp/host/libcuda", "/usr/lib/fake-cuda", {"ro", "nosuid", "nodev"}},
                     {"/tmp/host/tool", "/opt/tool", {"rbind"}}};
  pod::AppHook create;
  create.stage = "createContainer";
  create.path = "/usr/bin/fake-ctk";
  create.args = {"fake-ctk", "hook"};
  create.timeout = 5;
  pod::AppHook stop;
  stop.stage = "poststop";
  stop.path = "/bin/true";
  app.hooks = {create, stop};
  manifest.apps.push_back(app);
  return manifest;
}

AppSpecInput Input(const pod::PodManifest& manifest) {
  AppSpecInput input;
  input.manifest = &manifest;
  input.app = manifest.apps.data();
  input.pod_dir = "/var/lib/comet/pods/run/" + manifest.uuid;
  input.supervisor_pid = 4242;
  input.user.additional_gids = manifest.apps[0].supplementary_gids;
  return input;
}

const oci::Mount* FindMount(const oci::Spec& spec, const std::string& destination) {
  auto it = std::find_if(spec.mounts.begin(), spec.mounts.end(),
                         [&](const oci::Mount& m) { return m.destination == destination; });
  return it == spec.mounts.end() ? nullptr : &*it;
}

TEST(AppDevicesTest, DevicesMountsHooksAndEnvLandInTheSpec) {
  const pod::PodManifest manifest = GpuManifest(false);
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();

  const auto& devices = spec->linux_config->devices;
  ASSERT_EQ(devices.size(), 3U);
  EXPECT_EQ(devices[0].path, "/dev/fakegpu0");
  EXPECT_EQ(devices[0].type, "c");
  EXPECT_EQ(devices[0].major, 1);
  EXPECT_EQ(devices[0].minor, 3);
  EXPECT_EQ(devices[0].file_mode, 0660U);
  EXPECT_EQ(devices[0].gid, 44U);
  EXPECT_FALSE(devices[0].uid);
  EXPECT_EQ(devices[1].type, "b");
  EXPECT_EQ(devices[2].type, "p");

  // Deny everything first, then allow exactly these (none for the fifo).
  ASSERT_TRUE(spec->linux_config->resources);
  const auto& rules = spec->linux_config->resources->devices;
  ASSERT_EQ(rules.size(), 3U);
  EXPECT_FALSE(rules[0].allow);
  EXPECT_TRUE(rules[1].allow);
  EXPECT_EQ(rules[1].type, "c");
  EXPECT_EQ(rules[1].major, 1);
  EXPECT_EQ(rules[1].minor, 3);
  EXPECT_EQ(rules[1].access, "rw");
  EXPECT_EQ(rules[2].type, "b");
  EXPECT_EQ(rules[2].access, "rwm");

  const oci::Mount* cuda = FindMount(*spec, "/usr/lib/fake-cuda");
  ASSERT_NE(cuda, nullptr);
  EXPECT_EQ(cuda->type, "bind");
  EXPECT_EQ(cuda->source, "/tmp/host/libcuda");
  EXPECT_EQ(cuda->options, (std::vector<std::string>{"bind", "ro", "nosuid", "nodev"}));
  const oci::Mount* tool = FindMount(*spec, "/opt/tool");
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->options, std::vector<std::string>{"rbind"});
  EXPECT_EQ(FindMount(*spec, "/dev/fakegpu0"), nullptr);  // made, not bound, as root

  ASSERT_TRUE(spec->hooks);
  ASSERT_EQ(spec->hooks->create_container.size(), 1U);
  EXPECT_EQ(spec->hooks->create_container[0].path, "/usr/bin/fake-ctk");
  EXPECT_EQ(spec->hooks->create_container[0].args, (std::vector<std::string>{"fake-ctk", "hook"}));
  EXPECT_EQ(spec->hooks->create_container[0].timeout, 5);
  ASSERT_EQ(spec->hooks->poststop.size(), 1U);
  EXPECT_TRUE(spec->hooks->create_runtime.empty());

  const auto& env = spec->process->env;
  EXPECT_NE(std::find(env.begin(), env.end(), "FAKE_GPU_VISIBLE=0"), env.end());
  EXPECT_EQ(spec->process->user.additional_gids, std::vector<uint32_t>{44});

  auto valid = oci::Validate(*spec);
  EXPECT_TRUE(valid) << valid.error().ToString();
}

TEST(AppDevicesTest, RootlessBindsTheHostNodes) {
  const pod::PodManifest manifest = GpuManifest(true);
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_TRUE(spec->linux_config->devices.empty());
  EXPECT_FALSE(spec->linux_config->resources && !spec->linux_config->resources->devices.empty());
  const oci::Mount* gpu = FindMount(*spec, "/dev/fakegpu0");
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->source, "/tmp/host/fakegpu0");
  EXPECT_EQ(gpu->type, "bind");
  EXPECT_EQ(std::count(gpu->options.begin(), gpu->options.end(), "nodev"), 0);
  // After the default /dev tmpfs, or the tmpfs would hide it.
  auto dev = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                          [](const oci::Mount& m) { return m.destination == "/dev"; });
  ASSERT_NE(dev, spec->mounts.end());
  EXPECT_LT(dev - spec->mounts.begin(), gpu - spec->mounts.data());
  ASSERT_NE(FindMount(*spec, "/usr/lib/fake-cuda"), nullptr);
  ASSERT_TRUE(spec->hooks);
  EXPECT_EQ(spec->hooks->create_container.size(), 1U);
}

TEST(AppDevicesTest, AppsWithoutDevicesAreUnchanged) {
  pod::PodManifest manifest = GpuManifest(false);
  pod::App& app = manifest.apps[0];
  app.devices.clear();
  app.bind_mounts.clear();
  app.hooks.clear();
  auto spec = BuildAppSpec(Input(manifest));
  ASSERT_TRUE(spec);
  EXPECT_TRUE(spec->linux_config->devices.empty());
  EXPECT_EQ(spec->linux_config->resources->devices.size(), 1U);
  EXPECT_FALSE(spec->hooks);
}

TEST(AppDevicesTest, UnknownHookStageIsAnError) {
  pod::PodManifest manifest = GpuManifest(false);
  manifest.apps[0].hooks[0].stage = "prestop";
  oci::Spec spec;
  spec.linux_config.emplace();
  EXPECT_FALSE(AddAppDevices(manifest.apps[0], false, spec));
  oci::Spec bare;  // no linux section
  EXPECT_FALSE(AddAppDevices(manifest.apps[0], false, bare));
}

}  // namespace
}  // namespace comet::supervisor
