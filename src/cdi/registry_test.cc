// Tests of loading CDI spec directories and resolving device names.
#include "cdi/registry.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::cdi {
namespace {

class CdiRegistry : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("cdi-registry-test-");
    ASSERT_TRUE(dir);
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    etc_ = tmp_->path() + "/etc";
    run_ = tmp_->path() + "/run";
    ASSERT_TRUE(os::MkdirAll(etc_));
    ASSERT_TRUE(os::MkdirAll(run_));
  }

  static void Write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(os::WriteFile(path, text));
  }

  // A spec of kind `kind` whose devices each set DEV=<name><tag> and have a node /dev/<name>
  // (char 1:3, /dev/null's numbers, so that no stat is needed).
  static std::string Spec(const std::string& kind, const std::vector<std::string>& names,
                          const std::string& tag = "", const std::string& spec_env = "") {
    std::string text = fmt::format("cdiVersion: 0.6.0\nkind: {}\n", kind);
    if (!spec_env.empty()) {
      text += fmt::format("containerEdits:\n  env: [{}]\n", spec_env);
    }
    text += "devices:\n";
    for (const std::string& name : names) {
      text += fmt::format(
          "- name: \"{0}\"\n  containerEdits:\n    env: [DEV={0}{1}]\n    deviceNodes:\n"
          "    - {{path: /dev/{0}, type: c, major: 1, minor: 3}}\n",
          name, tag);
    }
    return text;
  }

  [[nodiscard]] Registry Load() const { return Registry::Load({etc_, run_}); }

  std::unique_ptr<os::TempDir> tmp_;
  std::string etc_;
  std::string run_;
};

TEST_F(CdiRegistry, DefaultDirs) {
  EXPECT_EQ(DefaultSpecDirs(), (std::vector<std::string>{"/etc/cdi", "/var/run/cdi"}));
}

TEST_F(CdiRegistry, LoadsYamlAndJsonAndSkipsOtherFiles) {
  Write(etc_ + "/a.yaml", Spec("example.com/gpu", {"gpu0", "gpu1"}));
  Write(etc_ + "/b.json",
        R"({"cdiVersion":"0.5.0","kind":"example.com/fpga","devices":[{"name":"f0",)"
        R"("containerEdits":{"env":["F=0"]}}]})");
  Write(etc_ + "/c.txt", Spec("example.com/other", {"x"}));
  Write(etc_ + "/.hidden.yaml", Spec("example.com/hidden", {"x"}));
  Registry registry = Load();
  EXPECT_TRUE(registry.errors().empty());
  EXPECT_EQ(registry.DeviceNames(),
            (std::vector<std::string>{"example.com/fpga=f0", "example.com/gpu=gpu0",
                                      "example.com/gpu=gpu1"}));
}

TEST_F(CdiRegistry, BrokenFilesAreReportedAndSkipped) {
  Write(etc_ + "/bad.yaml", "cdiVersion: [\n");
  Write(etc_ + "/bad-kind.yaml", Spec("gpu", {"g"}));
  Write(etc_ + "/good.yaml", Spec("example.com/gpu", {"gpu0"}));
  Registry registry = Registry::Load({etc_, run_, tmp_->path() + "/missing"});
  ASSERT_EQ(registry.errors().size(), 2U);
  EXPECT_NE(registry.errors()[0].find(etc_ + "/bad-kind.yaml"), std::string::npos);
  EXPECT_NE(registry.errors()[1].find(etc_ + "/bad.yaml"), std::string::npos);
  EXPECT_EQ(registry.DeviceNames(), std::vector<std::string>{"example.com/gpu=gpu0"});
}

TEST_F(CdiRegistry, LaterDirectoriesOverrideEarlierOnes) {
  Write(etc_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu0", "gpu1"}, "-etc"));
  Write(run_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu1"}, "-run"));
  Registry registry = Load();
  auto edits = registry.Resolve({"example.com/gpu=gpu0", "example.com/gpu=gpu1"});
  ASSERT_TRUE(edits) << edits.error().ToString();
  EXPECT_EQ(edits->env, (std::vector<std::string>{"DEV=gpu0-etc", "DEV=gpu1-run"}));
  // The other order of directories: /etc wins.
  auto reversed = Registry::Load({run_, etc_}).Resolve({"example.com/gpu=gpu1"});
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->env, std::vector<std::string>{"DEV=gpu1-etc"});
}

TEST_F(CdiRegistry, TwoDefinitionsInOneDirectoryConflict) {
  Write(etc_ + "/a.yaml", Spec("example.com/gpu", {"gpu0", "gpu1"}));
  Write(etc_ + "/b.yaml", Spec("example.com/gpu", {"gpu1"}));
  Registry registry = Load();
  auto edits = registry.Resolve({"example.com/gpu=gpu1"});
  ASSERT_FALSE(edits);
  EXPECT_NE(edits.error().ToString().find("defined in both"), std::string::npos)
      << edits.error().ToString();
  EXPECT_TRUE(registry.Resolve({"example.com/gpu=gpu0"}));
  // A later directory settles it.
  Write(run_ + "/c.yaml", Spec("example.com/gpu", {"gpu1"}, "-run"));
  auto settled = Load().Resolve({"example.com/gpu=gpu1"});
  ASSERT_TRUE(settled) << settled.error().ToString();
  EXPECT_EQ(settled->env, std::vector<std::string>{"DEV=gpu1-run"});
}

TEST_F(CdiRegistry, ResolveAppliesSpecEditsOnceAndDeviceEditsInOrder) {
  Write(etc_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu0", "gpu1"}, "", "SPEC=1"));
  Write(etc_ + "/fpga.yaml", Spec("example.com/fpga", {"f0"}, "", "FPGA=1"));
  Registry registry = Load();
  auto edits = registry.Resolve({"example.com/gpu=gpu1", "example.com/fpga=f0",
                                 "example.com/gpu=gpu0", "example.com/gpu=gpu1"});
  ASSERT_TRUE(edits) << edits.error().ToString();
  EXPECT_EQ(edits->env,
            (std::vector<std::string>{"SPEC=1", "DEV=gpu1", "FPGA=1", "DEV=f0", "DEV=gpu0"}));
  ASSERT_EQ(edits->device_nodes.size(), 3U);
  EXPECT_EQ(edits->device_nodes[0].path, "/dev/gpu1");
  EXPECT_EQ(edits->device_nodes[0].host_path, "/dev/gpu1");  // filled from path
  EXPECT_EQ(edits->device_nodes[0].major, 1);
}

TEST_F(CdiRegistry, AllIsTheSpecsDeviceOrEveryDevice) {
  Write(etc_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu10", "gpu2", "gpu1"}));
  auto every = Load().Resolve({"example.com/gpu=all"});
  ASSERT_TRUE(every) << every.error().ToString();
  EXPECT_EQ(every->env, (std::vector<std::string>{"DEV=gpu1", "DEV=gpu2", "DEV=gpu10"}));
  Write(etc_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu1", "all"}));
  auto named = Load().Resolve({"example.com/gpu=all"});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->env, std::vector<std::string>{"DEV=all"});
}

TEST_F(CdiRegistry, UnknownDevicesAreErrorsNamingThem) {
  Write(etc_ + "/gpu.yaml", Spec("example.com/gpu", {"gpu0", "gpu1"}));
  Registry registry = Load();
  auto unknown = registry.Resolve({"example.com/gpu=gpu0", "example.com/gpu=gpu7"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ENOENT);
  EXPECT_NE(unknown.error().ToString().find("unknown CDI device example.com/gpu=gpu7"),
            std::string::npos)
      << unknown.error().ToString();
  EXPECT_NE(unknown.error().ToString().find("gpu0, gpu1"), std::string::npos);
  auto no_kind = registry.Resolve({"nvidia.com/gpu=0"});
  ASSERT_FALSE(no_kind);
  EXPECT_NE(no_kind.error().ToString().find("no spec of kind nvidia.com/gpu in " + etc_),
            std::string::npos)
      << no_kind.error().ToString();
  EXPECT_FALSE(registry.Resolve({"not-a-name"}));
  EXPECT_TRUE(registry.Resolve({}));
}

TEST_F(CdiRegistry, PickDevicesForResourceCounts) {
  Write(etc_ + "/gpu.yaml", Spec("nvidia.com/gpu", {"10", "2", "all", "1"}));
  Registry registry = Load();
  auto two = registry.PickDevices("nvidia.com/gpu", 2);
  ASSERT_TRUE(two) << two.error().ToString();
  EXPECT_EQ(*two, (std::vector<std::string>{"nvidia.com/gpu=1", "nvidia.com/gpu=2"}));
  auto three = registry.PickDevices("nvidia.com/gpu", 3);
  ASSERT_TRUE(three);
  EXPECT_EQ(three->back(), "nvidia.com/gpu=10");
  EXPECT_TRUE(registry.PickDevices("nvidia.com/gpu", 0)->empty());
  auto too_many = registry.PickDevices("nvidia.com/gpu", 4);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().ToString(), "nvidia.com/gpu: 4 requested, 3 available");
  auto none = registry.PickDevices("amd.com/gpu", 1);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().ToString(), "amd.com/gpu: 1 requested, 0 available");
  EXPECT_FALSE(registry.PickDevices("gpu", 1));
}

TEST_F(CdiRegistry, ResolveFillsDeviceNodesFromTheHost) {
  auto spec = [](const char* version) {
    return fmt::format(
        "cdiVersion: {}\nkind: example.com/null\ndevices:\n"
        "- name: n\n  containerEdits:\n    deviceNodes: [{{path: /dev/n0, hostPath: "
        "/dev/null}}]\n"
        "- name: wrong\n  containerEdits:\n    deviceNodes: [{{path: /dev/n1, hostPath: "
        "/dev/null, type: b}}]\n"
        "- name: gone\n  containerEdits:\n    deviceNodes: [{{path: /dev/does-not-exist-cdi}}]\n"
        "- name: rdt\n  containerEdits:\n    intelRdt: {{closID: x}}\n",
        version);
  };
  // intelRdt needs 0.7.0.
  Write(etc_ + "/null.yaml", spec("0.6.0"));
  EXPECT_EQ(Load().errors().size(), 1U);
  Write(etc_ + "/null.yaml", spec("0.7.0"));
  Registry registry = Load();
  ASSERT_TRUE(registry.errors().empty()) << registry.errors()[0];
  auto edits = registry.Resolve({"example.com/null=n"});
  ASSERT_TRUE(edits) << edits.error().ToString();
  const DeviceNode& node = edits->device_nodes.at(0);
  EXPECT_EQ(node.type, "c");
  EXPECT_EQ(node.major, 1);
  EXPECT_EQ(node.minor, 3);
  auto wrong = registry.Resolve({"example.com/null=wrong"});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().ToString().find("type b given"), std::string::npos)
      << wrong.error().ToString();
  auto gone = registry.Resolve({"example.com/null=gone"});
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().ToString().find("/dev/does-not-exist-cdi"), std::string::npos);
  auto rdt = registry.Resolve({"example.com/null=rdt"});
  ASSERT_FALSE(rdt);
  EXPECT_NE(rdt.error().ToString().find("intelRdt"), std::string::npos);
}

TEST(CdiNaturalOrder, NumbersCompareAsNumbers) {
  EXPECT_TRUE(NaturalLess("gpu2", "gpu10"));
  EXPECT_FALSE(NaturalLess("gpu10", "gpu2"));
  EXPECT_TRUE(NaturalLess("1", "10"));
  EXPECT_TRUE(NaturalLess("a", "b"));
  EXPECT_TRUE(NaturalLess("gpu", "gpu0"));
  EXPECT_FALSE(NaturalLess("gpu0", "gpu0"));
  EXPECT_TRUE(NaturalLess("gpu01", "gpu1") != NaturalLess("gpu1", "gpu01"));
}

}  // namespace
}  // namespace comet::cdi
