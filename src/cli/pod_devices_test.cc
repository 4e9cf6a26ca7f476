// Unit tests of --device (host nodes and CDI names): parsing, the global --cdi-spec-dir flag,
// and resolution into a pod app against a CDI spec directory the test writes.
#include "cli/pod_devices.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/comet_command_line.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DeviceFlags, HostDeviceForms) {
  auto plain = ParseHostDeviceFlag("/dev/fuse");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host_path, "/dev/fuse");
  EXPECT_EQ(plain->container_path, "/dev/fuse");
  EXPECT_EQ(plain->permissions, "rwm");
  auto moved = ParseHostDeviceFlag("/dev/sdc:/dev/xvdc");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->container_path, "/dev/xvdc");
  auto perms = ParseHostDeviceFlag("/dev/sdc:r");
  ASSERT_TRUE(perms);
  EXPECT_EQ(perms->container_path, "/dev/sdc");
  EXPECT_EQ(perms->permissions, "r");
  auto all = ParseHostDeviceFlag("/dev/sdc:/dev/xvdc:rw");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->container_path, "/dev/xvdc");
  EXPECT_EQ(all->permissions, "rw");
  for (const char* bad :
       {"", "dev/sdc", "/dev/sdc:xvdc", "/dev/sdc:/dev/x:rwx", "/dev/sdc:/dev/x:rr", "/a:/b:r:w"}) {
    EXPECT_FALSE(ParseHostDeviceFlag(bad)) << bad;
  }
}

TEST(DeviceFlags, CheckedWhenParsed) {
  EXPECT_TRUE(CheckDeviceFlag("nvidia.com/gpu=0"));
  EXPECT_TRUE(CheckDeviceFlag("/dev/null:/dev/n:rw"));
  EXPECT_FALSE(CheckDeviceFlag("nvidia.com/gpu=bad name"));
  EXPECT_FALSE(CheckDeviceFlag("gpu0"));
  auto parsed = ParsePodRunArgs("run", {"--device=/dev/fuse", "--device", "example.com/gpu=all",
                                        "img", "--device=nvidia.com/gpu=0", "---", "other"});
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_THAT(parsed->pod_devices, ElementsAre("/dev/fuse", "example.com/gpu=all"));
  EXPECT_THAT(parsed->apps[0].devices, ElementsAre("nvidia.com/gpu=0"));
  EXPECT_TRUE(parsed->apps[1].devices.empty());
  auto bad = ParsePodRunArgs("run", {"img", "--device=nvidia.com/gpu="});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().ToString(), HasSubstr("--device"));
  EXPECT_TRUE(ParsePodRunArgs("app add", {"1234abcd", "img", "--device=/dev/fuse"}));
  EXPECT_FALSE(ParsePodRunArgs("app sandbox", {"--device=/dev/fuse"}));
}

TEST(DeviceFlags, GlobalSpecDirs) {
  CometInvocation in;
  ASSERT_TRUE(ParseCometCommandLine(
      {"comet", "--cdi-spec-dir=/a", "--cdi-spec-dir", "/b", "run", "--device=x.com/y=z", "img"},
      in));
  EXPECT_THAT(in.global.cdi_spec_dirs, ElementsAre("/a", "/b"));
  CometInvocation plain;
  ASSERT_TRUE(ParseCometCommandLine({"comet", "list"}, plain));
  EXPECT_TRUE(plain.global.cdi_spec_dirs.empty());  // the registry's defaults
}

class CdiApply : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("cli-cdi-test-");
    ASSERT_TRUE(dir);
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    specs_ = tmp_->path() + "/cdi";
    ASSERT_TRUE(os::MkdirAll(specs_));
    // Two fake GPUs backed by /dev/null's and /dev/zero's numbers, filled in from the host.
    ASSERT_TRUE(os::WriteFile(specs_ + "/fake.yaml", R"(cdiVersion: 0.7.0
kind: example.com/gpu
containerEdits:
  env: [FAKE_DRIVER=1, SHARED=spec]
  mounts:
  - {hostPath: /usr/lib, containerPath: /opt/driver, options: [ro, nosuid]}
  hooks:
  - {hookName: createContainer, path: /bin/true, args: [true]}
  additionalGids: [0, 44]
devices:
- name: gpu0
  containerEdits:
    env: [FAKE_VISIBLE=0]
    deviceNodes:
    - {path: /dev/fakegpu0, hostPath: /dev/null, permissions: rw}
    - {path: /dev/fakectl, hostPath: /dev/zero}
- name: gpu1
  containerEdits:
    env: [FAKE_VISIBLE=1]
    deviceNodes:
    - {path: /dev/fakegpu1, hostPath: /dev/zero, fileMode: 0600, uid: 0, gid: 44}
    - {path: /dev/fakectl, hostPath: /dev/zero}
- name: tmpfs
  containerEdits:
    mounts: [{hostPath: /tmp, containerPath: /scratch, type: tmpfs}]
)"));
  }

  [[nodiscard]] std::vector<std::string> Dirs() const { return {specs_}; }

  static pod::App App() {
    pod::App app;
    app.name = "gpu";
    app.env = {"PATH=/bin", "SHARED=app"};
    app.supplementary_gids = {44};
    return app;
  }

  std::unique_ptr<os::TempDir> tmp_;
  std::string specs_;
};

TEST_F(CdiApply, CdiEditsGoIntoTheApp) {
  pod::App app = App();
  ASSERT_TRUE(AddCdiDevices(app, {"example.com/gpu=gpu0", "example.com/gpu=gpu1"}, Dirs()));
  EXPECT_THAT(app.cdi_devices, ElementsAre("example.com/gpu=gpu0", "example.com/gpu=gpu1"));
  // CDI env replaces the app's by key; spec-level edits once.
  EXPECT_THAT(app.env, ElementsAre("PATH=/bin", "SHARED=spec", "FAKE_DRIVER=1", "FAKE_VISIBLE=1"));
  EXPECT_THAT(app.supplementary_gids, ElementsAre(44));  // 0 ignored, 44 once
  ASSERT_EQ(app.devices.size(), 3U);                     // /dev/fakectl once, the later one
  EXPECT_EQ(app.devices[0].path, "/dev/fakegpu0");
  EXPECT_EQ(app.devices[0].host_path, "/dev/null");
  EXPECT_EQ(app.devices[0].type, 'c');
  EXPECT_EQ(app.devices[0].major, 1);
  EXPECT_EQ(app.devices[0].minor, 3);
  EXPECT_EQ(app.devices[0].permissions, "rw");
  EXPECT_EQ(app.devices[1].path, "/dev/fakegpu1");
  EXPECT_EQ(app.devices[1].minor, 5);
  EXPECT_EQ(app.devices[1].file_mode, 0600U);
  EXPECT_EQ(app.devices[1].gid, 44U);
  EXPECT_EQ(app.devices[1].permissions, "rwm");
  EXPECT_EQ(app.devices[2].path, "/dev/fakectl");
  ASSERT_EQ(app.bind_mounts.size(), 1U);
  EXPECT_EQ(app.bind_mounts[0].container_path, "/opt/driver");
  EXPECT_THAT(app.bind_mounts[0].options, ElementsAre("ro", "nosuid"));
  ASSERT_EQ(app.hooks.size(), 1U);
  EXPECT_EQ(app.hooks[0].stage, "createContainer");
}

TEST_F(CdiApply, FlagsOfThePodAndTheApp) {
  PodRunOptions options;
  options.pod_devices = {"/dev/null:/dev/mynull:r"};
  AppFlags flags;
  flags.devices = {"example.com/gpu=gpu1"};
  pod::App app = App();
  ASSERT_TRUE(ApplyDeviceFlags(options, flags, Dirs(), app));
  ASSERT_EQ(app.devices.size(), 3U);
  EXPECT_EQ(app.devices[0].path, "/dev/mynull");
  EXPECT_EQ(app.devices[0].host_path, "/dev/null");
  EXPECT_EQ(app.devices[0].major, 1);
  EXPECT_EQ(app.devices[0].minor, 3);
  EXPECT_EQ(app.devices[0].permissions, "r");
  EXPECT_THAT(app.cdi_devices, ElementsAre("example.com/gpu=gpu1"));
  // Nothing asked: the app is left alone (and no spec dir is read).
  pod::App untouched = App();
  ASSERT_TRUE(ApplyDeviceFlags(PodRunOptions{}, AppFlags{}, {"/nonexistent"}, untouched));
  EXPECT_TRUE(untouched.devices.empty());
  EXPECT_EQ(untouched.env, App().env);
}

TEST_F(CdiApply, ErrorsNameTheDevice) {
  pod::App app = App();
  AppFlags flags;
  flags.devices = {"example.com/gpu=gpu7"};
  Status unknown = ApplyDeviceFlags(PodRunOptions{}, flags, Dirs(), app);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().ToString(), HasSubstr("unknown CDI device example.com/gpu=gpu7"));
  flags.devices = {"example.com/gpu=tmpfs"};
  Status tmpfs = ApplyDeviceFlags(PodRunOptions{}, flags, Dirs(), app);
  ASSERT_FALSE(tmpfs);
  EXPECT_THAT(tmpfs.error().ToString(), HasSubstr("type tmpfs is not supported"));
  flags.devices = {"/etc/passwd"};
  Status regular = ApplyDeviceFlags(PodRunOptions{}, flags, Dirs(), app);
  ASSERT_FALSE(regular);
  EXPECT_THAT(regular.error().ToString(), HasSubstr("/etc/passwd: not a device node"));
  flags.devices = {"/dev/comet-no-such-device"};
  EXPECT_FALSE(ApplyDeviceFlags(PodRunOptions{}, flags, Dirs(), app));
}

TEST_F(CdiApply, ResourceCounts) {
  auto names = PickCdiDevices("example.com/gpu", 2, Dirs());
  ASSERT_TRUE(names) << names.error().ToString();
  EXPECT_THAT(*names, ElementsAre("example.com/gpu=gpu0", "example.com/gpu=gpu1"));
  pod::App app = App();
  ASSERT_TRUE(AddCdiDeviceCount(app, "example.com/gpu", 1, Dirs()));
  EXPECT_THAT(app.cdi_devices, ElementsAre("example.com/gpu=gpu0"));
  Status too_many = AddCdiDeviceCount(app, "example.com/gpu", 4, Dirs());
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().ToString(), "example.com/gpu: 4 requested, 3 available");
  pod::App none = App();
  EXPECT_TRUE(AddCdiDeviceCount(none, "example.com/gpu", 0, {"/nonexistent"}));
  EXPECT_TRUE(none.devices.empty());
}

}  // namespace
}  // namespace comet::cli
