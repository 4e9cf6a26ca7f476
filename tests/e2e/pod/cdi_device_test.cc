// Devices through CDI (issue 7) and --device: a fake GPU whose device nodes the test makes with
// mknod, described by a CDI spec the test writes to its own spec directory (comet
// --cdi-spec-dir), run in a busybox pod that reports what it sees: the nodes with their type and
// numbers, the driver mount, the env, the hook's mark on the host; devices not asked for absent;
// the device cgroup enforcing the permissions; an unknown device refused with exit 254 and no
// pod left behind. The rootless test binds a host node instead of making one.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

// What the app prints for a device node: "<path> <type> <major>:<minor>" (hex, busybox stat).
constexpr const char* kStatNode = "stat -c '%n %F %t:%T' ";

class CdiDevice : public PodTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "makes device nodes with mknod: needs root";
    }
    PodTest::SetUp();
    host_dev_ = HostDir("host-dev");
    specs_ = HostDir("cdi");
    driver_ = HostDir("fake-driver");
    WriteFileOrDie(driver_ + "/libcuda.so.1", "fake-libcuda\n");
    // Two fake GPUs with the numbers of /dev/null and /dev/zero, so that they work when used.
    MakeNode("fakegpu0", 1, 3);
    MakeNode("fakegpu1", 1, 5);
  }

  void MakeNode(const std::string& name, unsigned major, unsigned minor) {
    const std::string path = host_dev_ + "/" + name;
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0666, makedev(major, minor)), 0) << path;
  }

  // A spec of `kind` with devices gpu0/gpu1 (`names`) on the fake nodes (type and numbers left
  // for comet to stat), the driver directory mounted read-only, env at both levels, and a
  // createRuntime hook that leaves a mark on the host.
  void WriteSpec(const std::string& file, const std::string& kind,
                 const std::vector<std::string>& names) {
    std::string spec = fmt::format(
        "cdiVersion: \"0.6.0\"\n"
        "kind: {}\n"
        "containerEdits:\n"
        "  env: [FAKE_DRIVER_ROOT=/usr/lib/fake-cuda]\n"
        "  mounts:\n"
        "  - hostPath: {}\n"
        "    containerPath: /usr/lib/fake-cuda\n"
        "    options: [ro, nosuid, nodev, bind]\n"
        "  hooks:\n"
        "  - hookName: createRuntime\n"
        "    path: /bin/sh\n"
        "    args: [sh, -c, 'echo hooked >> {}/hook-mark']\n"
        "devices:\n",
        kind, driver_, tmp());
    for (size_t i = 0; i < names.size(); ++i) {
      spec += fmt::format(
          "- name: \"{}\"\n"
          "  containerEdits:\n"
          "    env: [FAKE_VISIBLE_DEVICES={}]\n"
          "    deviceNodes:\n"
          "    - path: /dev/fakegpu{}\n"
          "      hostPath: {}/fakegpu{}\n"
          "      permissions: rw\n",
          names[i], i, i, host_dev_, i);
    }
    WriteFileOrDie(specs_ + "/" + file, spec);
  }

  // comet --cdi-spec-dir=<specs> run ... (the marker env added by hand: Comet adds it only
  // when "run" comes first).
  ProcResult RunWithSpecs(std::vector<std::string> run_args) {
    std::vector<std::string> args = {"--cdi-spec-dir=" + specs_, "run",
                                     "--set-env=COMET_E2E_MARK=" + marker()};
    args.insert(args.end(), run_args.begin(), run_args.end());
    return Comet(args);
  }

  std::string host_dev_;
  std::string specs_;
  std::string driver_;
};

TEST_F(CdiDevice, FakeGpuNodesMountsEnvAndHooksAreInjected) {
  WriteSpec("fake-gpu.yaml", "example.com/gpu", {"gpu0", "gpu1"});
  const std::string script = std::string(kStatNode) +
                             "/dev/fakegpu0; "
                             "[ -e /dev/fakegpu1 ] || echo gpu1-absent; "
                             "echo lib=$(cat /usr/lib/fake-cuda/libcuda.so.1); "
                             "echo x > /usr/lib/fake-cuda/new 2>/dev/null || echo driver-ro; "
                             "echo visible=$FAKE_VISIBLE_DEVICES root=$FAKE_DRIVER_ROOT; "
                             "echo data > /dev/fakegpu0 && echo gpu0-writable";
  ProcResult r =
      RunWithSpecs({"--device=example.com/gpu=gpu0", kImage, "--", "/bin/sh", "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "/dev/fakegpu0 character special file 1:3")) << r.out;
  EXPECT_TRUE(Contains(r.out, "gpu1-absent")) << "a device not asked for: " << r.out;
  EXPECT_TRUE(Contains(r.out, "lib=fake-libcuda")) << r.out;
  EXPECT_TRUE(Contains(r.out, "driver-ro")) << r.out;
  EXPECT_TRUE(Contains(r.out, "visible=0 root=/usr/lib/fake-cuda")) << r.out;
  EXPECT_TRUE(Contains(r.out, "gpu0-writable")) << r.out;
  EXPECT_EQ(ReadFileOrEmpty(tmp() + "/hook-mark"), "hooked\n") << "the createRuntime hook";
  // What was asked for is on record, resolved: the supervisor read no spec.
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string uuid = PodDirs()[0].substr(PodDirs()[0].find('/') + 1);
  auto manifest = nlohmann::json::parse(Ok({"cat-manifest", uuid}), nullptr, false);
  const auto& app = manifest["apps"][0];
  EXPECT_EQ(app["cdi_devices"], nlohmann::json::array({"example.com/gpu=gpu0"})) << app;
  EXPECT_EQ(app["devices"][0]["path"], "/dev/fakegpu0") << app;
  EXPECT_EQ(app["devices"][0]["major"], 1) << app;
  EXPECT_EQ(app["bind_mounts"][0]["container_path"], "/usr/lib/fake-cuda") << app;
}

// The kind Kubernetes' nvidia.com/gpu resources name, as NVIDIA's own spec lays it out ("0",
// "1", "all"), given before the image: every app gets it.
TEST_F(CdiDevice, NvidiaKindAllDevicesInEveryApp) {
  WriteSpec("nvidia.yaml", "nvidia.com/gpu", {"0", "1"});
  const std::string script = std::string(kStatNode) + "/dev/fakegpu0 /dev/fakegpu1; " +
                             "echo visible=$FAKE_VISIBLE_DEVICES";
  ProcResult r = RunWithSpecs(Concat({{"--device=nvidia.com/gpu=all"},
                                      ShellApp("first", script),
                                      {"---"},
                                      ShellApp("second", script)}));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string uuid = PodDirs()[0].substr(PodDirs()[0].find('/') + 1);
  for (const char* app : {"first", "second"}) {
    const std::string log = ReadFileOrEmpty(LogFile(uuid, app));
    EXPECT_TRUE(Contains(log, "/dev/fakegpu0 character special file 1:3")) << app << ": " << log;
    EXPECT_TRUE(Contains(log, "/dev/fakegpu1 character special file 1:5")) << app << ": " << log;
    EXPECT_TRUE(Contains(log, "visible=1")) << "the later device's env wins: " << log;
  }
}

// A host device node (podman's form) and the device cgroup: a node allowed "r" only opens for
// reading. Its numbers (10:200, the tun device's) are not among the runtime's default rules.
TEST_F(CdiDevice, HostDeviceNodeWithPermissions) {
  if (!HaveCgroupV1("devices")) {
    GTEST_SKIP() << "no v1 devices controller to enforce the permissions";
  }
  MakeNode("faketun", 10, 200);
  ProcResult r = Comet(
      {"run", kImage, "--device=" + host_dev_ + "/faketun:/dev/mytun:r", "--", "/bin/sh", "-c",
       std::string(kStatNode) + "/dev/mytun; (exec 3</dev/mytun) && echo read-open-ok; "
                                "(exec 4>/dev/mytun) 2>&1; true"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "/dev/mytun character special file a:c8")) << r.out;
  EXPECT_TRUE(Contains(r.out, "read-open-ok")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Operation not permitted")) << "write allowed: " << r.out;
}

// rktnetes limit 5: no GPUs. A Kubernetes pod asking for nvidia.com/gpu (and the legacy
// alpha.kubernetes.io/nvidia-gpu) through `comet play` gets that many devices of the CDI kind.
TEST_F(CdiDevice, KubernetesGpuResourcesThroughPlay) {
  WriteSpec("nvidia.yaml", "nvidia.com/gpu", {"0", "1"});
  const std::string script = std::string("for d in /dev/fakegpu*; do ") + kStatNode +
                             "$d; done; echo visible=$FAKE_VISIBLE_DEVICES; "
                             "cat /usr/lib/fake-cuda/libcuda.so.1";
  auto pod_yaml = [&](const std::string& name, const std::string& resource, int count) {
    std::string path = tmp() + "/" + name + ".yaml";
    WriteFileOrDie(path, fmt::format(R"y(apiVersion: v1
kind: Pod
metadata: {{name: {}}}
spec:
  restartPolicy: Never
  containers:
  - name: cuda
    image: local/busybox:1
    command: ["/bin/sh", "-c", "{}"]
    resources:
      limits: {{"{}": {}}}
)y",
                                     name, script, resource, count));
    return path;
  };
  auto play = [&](const std::string& file) {
    return Comet({"--cdi-spec-dir=" + specs_, "play", "--net=none", "--attach", "--rm", file});
  };
  ProcResult one = play(pod_yaml("one-gpu", "nvidia.com/gpu", 1));
  EXPECT_EQ(one.exit_code, 0) << one.Describe();
  EXPECT_TRUE(Contains(one.out, "/dev/fakegpu0 character special file 1:3")) << one.out;
  EXPECT_FALSE(Contains(one.out, "/dev/fakegpu1")) << one.out;
  EXPECT_TRUE(Contains(one.out, "fake-libcuda")) << one.out;

  ProcResult two = play(pod_yaml("legacy", "alpha.kubernetes.io/nvidia-gpu", 2));
  EXPECT_EQ(two.exit_code, 0) << two.Describe();
  EXPECT_TRUE(Contains(two.out, "/dev/fakegpu0 character special file 1:3")) << two.out;
  EXPECT_TRUE(Contains(two.out, "/dev/fakegpu1 character special file 1:5")) << two.out;

  ProcResult too_many = play(pod_yaml("greedy", "nvidia.com/gpu", 3));
  EXPECT_EQ(too_many.exit_code, 254) << too_many.Describe();
  EXPECT_TRUE(Contains(too_many.err, "nvidia.com/gpu")) << too_many.err;
  EXPECT_TRUE(PodDirs().empty());
}

TEST_F(CdiDevice, UnknownDeviceFailsAndLeavesNoPod) {
  WriteSpec("nvidia.yaml", "nvidia.com/gpu", {"0", "1"});
  ProcResult r = RunWithSpecs({"--device=nvidia.com/gpu=7", kImage, "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 254) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "unknown CDI device nvidia.com/gpu=7")) << r.err;
  EXPECT_TRUE(PodDirs().empty()) << PodDirs().size() << " pod dirs left";
  ProcResult kind = RunWithSpecs({"--device=amd.com/gpu=0", kImage, "--", "/bin/true"});
  EXPECT_EQ(kind.exit_code, 254) << kind.Describe();
  EXPECT_TRUE(Contains(kind.err, "no spec of kind amd.com/gpu in " + specs_)) << kind.err;
  // A broken spec file is skipped with a warning; the good ones still serve.
  WriteFileOrDie(specs_ + "/broken.yaml", "cdiVersion: [\n");
  ProcResult warned = RunWithSpecs({"--device=nvidia.com/gpu=1", kImage, "--", "/bin/true"});
  EXPECT_EQ(warned.exit_code, 0) << warned.Describe();
  EXPECT_TRUE(Contains(warned.err, "broken.yaml")) << warned.err;
  ProcResult node =
      Comet({"run", kImage, "--device=" + tmp() + "/no-such-node", "--", "/bin/true"});
  EXPECT_EQ(node.exit_code, 254) << node.Describe();
  EXPECT_TRUE(Contains(node.err, "no-such-node")) << node.err;
  CleanUpAndExpectNothingLeft("after refused devices");
}

// Rootless: no mknod and no device cgroup; the host's node is bind-mounted instead (here
// /dev/null, which an unprivileged user may open).
using RootlessCdi = RootlessPodTest;

TEST_F(RootlessCdi, DeviceIsBoundFromTheHost) {
  const std::string specs = HostDir("cdi");
  const std::string driver = HostDir("driver");
  WriteFileOrDie(driver + "/lib.so", "rootless-lib\n");
  WriteFileOrDie(specs + "/fake.json",
                 fmt::format(R"({{"cdiVersion": "0.5.0", "kind": "example.com/gpu",
  "containerEdits": {{"mounts": [{{"hostPath": "{}", "containerPath": "/drv",
                                   "options": ["ro"]}}]}},
  "devices": [{{"name": "gpu0", "containerEdits": {{"env": ["FAKE_VISIBLE_DEVICES=0"],
    "deviceNodes": [{{"path": "/dev/fakegpu0", "hostPath": "/dev/null"}}]}}}}]}})",
                             driver));
  ProcResult r = Comet({"--cdi-spec-dir=" + specs, "run", "--set-env=COMET_E2E_MARK=" + marker(),
                        "--device=example.com/gpu=gpu0", kImage, "--", "/bin/sh", "-c",
                        std::string(kStatNode) + "/dev/fakegpu0; echo x > /dev/fakegpu0 && "
                                                 "echo writable; cat /drv/lib.so; "
                                                 "echo visible=$FAKE_VISIBLE_DEVICES"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "/dev/fakegpu0 character special file 1:3")) << r.out;
  EXPECT_TRUE(Contains(r.out, "writable")) << r.out;
  EXPECT_TRUE(Contains(r.out, "rootless-lib")) << r.out;
  EXPECT_TRUE(Contains(r.out, "visible=0")) << r.out;
}

}  // namespace
}  // namespace comet::e2e::pod
