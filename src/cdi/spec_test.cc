// Tests of CDI spec parsing (YAML and JSON), versions and validation, and hostile input.
#include "cdi/spec.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::cdi {
namespace {

constexpr const char* kYamlSpec = R"(
cdiVersion: "0.6.0"
kind: nvidia.com/gpu
annotations:
  vendor.note: fake
containerEdits:
  env: [NVIDIA_VISIBLE=1]
  mounts:
    - hostPath: /usr/lib/libcuda.so.1
      containerPath: /usr/lib/libcuda.so.1
      options: [ro, nosuid, nodev, bind]
  hooks:
    - hookName: createContainer
      path: /usr/bin/nvidia-ctk
      args: [nvidia-ctk, hook, update-ldcache]
      env: [A=b]
      timeout: 5
devices:
  - name: "0"
    containerEdits:
      deviceNodes:
        - path: /dev/nvidia0
          type: c
          major: 195
          minor: 0
          fileMode: 0666
          permissions: rw
          uid: 0
          gid: 44
  - name: all
    annotations: {a: b}
    containerEdits:
      deviceNodes:
        - path: /dev/nvidia0
          hostPath: /dev/nvidia0
)";

TEST(CdiSpec, ParsesYaml) {
  auto spec = ParseSpec(kYamlSpec, "nvidia.yaml");
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->version, "0.6.0");
  EXPECT_EQ(spec->kind, "nvidia.com/gpu");
  EXPECT_EQ(spec->source, "nvidia.yaml");
  EXPECT_EQ(spec->annotations.at("vendor.note"), "fake");
  EXPECT_EQ(spec->edits.env, std::vector<std::string>{"NVIDIA_VISIBLE=1"});
  ASSERT_EQ(spec->edits.mounts.size(), 1U);
  EXPECT_EQ(spec->edits.mounts[0].host_path, "/usr/lib/libcuda.so.1");
  EXPECT_EQ(spec->edits.mounts[0].options,
            (std::vector<std::string>{"ro", "nosuid", "nodev", "bind"}));
  ASSERT_EQ(spec->edits.hooks.size(), 1U);
  EXPECT_EQ(spec->edits.hooks[0].hook_name, "createContainer");
  EXPECT_EQ(spec->edits.hooks[0].args.size(), 3U);
  EXPECT_EQ(spec->edits.hooks[0].timeout, 5);
  ASSERT_EQ(spec->devices.size(), 2U);
  EXPECT_EQ(spec->devices[0].name, "0");
  const DeviceNode& node = spec->devices[0].edits.device_nodes.at(0);
  EXPECT_EQ(node.path, "/dev/nvidia0");
  EXPECT_EQ(node.type, "c");
  EXPECT_EQ(node.major, 195);
  EXPECT_EQ(node.minor, 0);
  EXPECT_EQ(node.file_mode, 0666U);  // YAML 1.1 octal, as Go's readers take it
  EXPECT_EQ(node.permissions, "rw");
  EXPECT_EQ(node.uid, 0U);
  EXPECT_EQ(node.gid, 44U);
  const DeviceNode& bare = spec->devices[1].edits.device_nodes.at(0);
  EXPECT_EQ(bare.host_path, "/dev/nvidia0");
  EXPECT_FALSE(bare.major);
  EXPECT_FALSE(bare.file_mode);
}

TEST(CdiSpec, ParsesJsonIndentedWithTabs) {
  const std::string json =
      "{\n\t\"cdiVersion\": \"0.7.0\",\n\t\"kind\": \"example.com/gpu\",\n\t\"devices\": [\n"
      "\t\t{\"name\": \"gpu0\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/g0\", "
      "\"type\": \"b\", \"major\": 8, \"minor\": 1, \"fileMode\": 420}], \"additionalGids\": "
      "[5, 0]}}\n\t],\n\t\"containerEdits\": {\"env\": [\"X=1\"], \"additionalGIDs\": [7]}\n}\n";
  auto spec = ParseSpec(json);
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->devices[0].edits.device_nodes[0].file_mode, 0644U);
  EXPECT_EQ(spec->devices[0].edits.device_nodes[0].type, "b");
  EXPECT_EQ(spec->devices[0].edits.additional_gids, (std::vector<uint32_t>{5, 0}));
  EXPECT_EQ(spec->edits.additional_gids, std::vector<uint32_t>{7});
}

std::string Minimal(std::string_view version, std::string_view kind = "example.com/gpu",
                    std::string_view device = "gpu0", std::string_view node = "path: /dev/g0") {
  return fmt::format(
      "cdiVersion: \"{}\"\nkind: {}\ndevices:\n- name: \"{}\"\n  containerEdits:\n"
      "    deviceNodes:\n    - {}\n",
      version, kind, device, node);
}

TEST(CdiSpec, Versions) {
  for (const char* version :
       {"0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.0.1"}) {
    EXPECT_TRUE(ParseSpec(Minimal(version))) << version;
  }
  for (const char* version : {"0.2.0", "1.1.0", "2.0.0", "0.8", "x", "01.0.0", ""}) {
    EXPECT_FALSE(ParseSpec(Minimal(version))) << version;
  }
  // Fields newer than the version the spec claims.
  auto host_path =
      ParseSpec(Minimal("0.4.0", "example.com/gpu", "gpu0", "{path: /dev/g0, hostPath: /dev/g1}"));
  ASSERT_FALSE(host_path);
  EXPECT_NE(host_path.error().ToString().find("version 0.5.0"), std::string::npos)
      << host_path.error().ToString();
  EXPECT_FALSE(ParseSpec(Minimal("0.4.0", "example.com/gpu", "0")));       // digit first: 0.5.0
  EXPECT_FALSE(ParseSpec(Minimal("0.5.0", "example.com/gpu.x", "gpu0")));  // dotted class: 0.6.0
  EXPECT_TRUE(ParseSpec(Minimal("0.6.0", "example.com/gpu.x", "gpu0")));
  Spec spec;
  spec.kind = "example.com/gpu";
  spec.devices.push_back({"gpu0", {}, {}});
  EXPECT_EQ(MinimumVersion(spec), "0.3.0");
  spec.edits.additional_gids = {3};
  EXPECT_EQ(MinimumVersion(spec), "0.7.0");
  EXPECT_EQ(CompareVersions("0.10.0", "0.9.0"), 1);
  EXPECT_EQ(CompareVersions("v0.5.0", "0.5.0"), 0);
  EXPECT_FALSE(CompareVersions("0.5", "0.5.0"));
}

TEST(CdiSpec, RefusesBadKindsAndNames) {
  for (const char* kind : {"gpu", "example.com/", "example.com/gpu/x", "-x.com/gpu", "\"\""}) {
    auto spec = ParseSpec(Minimal("0.6.0", kind));
    ASSERT_FALSE(spec) << kind;
    EXPECT_NE(spec.error().ToString().find("kind"), std::string::npos) << spec.error().ToString();
  }
  for (const char* name : {"-gpu", "gpu 0", "gpu=0", "gpu/0", ""}) {
    auto spec = ParseSpec(Minimal("0.6.0", "example.com/gpu", name));
    ASSERT_FALSE(spec) << name;
    EXPECT_NE(spec.error().ToString().find("devices[0].name"), std::string::npos)
        << spec.error().ToString();
  }
  auto twice = ParseSpec(
      "cdiVersion: 0.6.0\nkind: example.com/gpu\ndevices:\n"
      "- {name: a, containerEdits: {env: [A=1]}}\n- {name: a, containerEdits: {env: [A=2]}}\n");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().ToString().find("devices[1].name"), std::string::npos);
}

// Each error names the file and the field.
TEST(CdiSpec, ErrorsNameFileAndField) {
  struct Case {
    std::string node;
    std::string field;
  };
  const Case cases[] = {
      {"path: dev/g0", "devices[0].containerEdits.deviceNodes[0].path"},
      {"{path: /dev/g0, type: x}", "deviceNodes[0].type"},
      {"{path: /dev/g0, major: -1}", "deviceNodes[0].major"},
      {"{path: /dev/g0, minor: 1048576}", "deviceNodes[0].minor"},
      {"{path: /dev/g0, major: \"1\"}", "deviceNodes[0].major: expected a number"},
      {"{path: /dev/g0, fileMode: 010000}", "deviceNodes[0].fileMode"},
      {"{path: /dev/g0, permissions: rwx}", "deviceNodes[0].permissions"},
      {"{path: /dev/g0, permissions: rr}", "deviceNodes[0].permissions"},
      {"{path: /dev/g0, uid: 4294967296}", "deviceNodes[0].uid"},
      {"{path: /dev/g0, colour: red}", "deviceNodes[0].colour: unknown field"},
      {"{path: /dev/g0, path: /dev/g1}", "deviceNodes[0].path: given twice"},
      {"[/dev/g0]", "deviceNodes[0]: expected a mapping"},
  };
  for (const Case& c : cases) {
    auto spec = ParseSpec(Minimal("0.6.0", "example.com/gpu", "gpu0", c.node), "/etc/cdi/x.yaml");
    ASSERT_FALSE(spec) << c.node;
    const std::string text = spec.error().ToString();
    EXPECT_NE(text.find("/etc/cdi/x.yaml"), std::string::npos) << text;
    EXPECT_NE(text.find(c.field), std::string::npos) << c.node << " -> " << text;
  }
  const std::pair<std::string, std::string> edits[] = {
      {"mounts: [{hostPath: lib, containerPath: /lib}]", "mounts[0].hostPath"},
      {"mounts: [{hostPath: /lib, containerPath: lib}]", "mounts[0].containerPath"},
      {"hooks: [{hookName: prestop, path: /bin/h}]", "hooks[0].hookName"},
      {"hooks: [{hookName: poststop, path: h}]", "hooks[0].path"},
      {"hooks: [{hookName: poststop, path: /h, timeout: 0}]", "hooks[0].timeout"},
      {"env: [NOEQUALS]", "containerEdits.env[0]"},
      {"env: A=1", "containerEdits.env: expected a list"},
      {"additionalGids: [-1]", "additionalGids[0]"},
      {"intelRdt: 3", "containerEdits.intelRdt"},
      {"netDevices: []", "containerEdits.netDevices: unknown field"},
  };
  for (const auto& [edit, field] : edits) {
    const std::string text = fmt::format(
        "cdiVersion: 0.7.0\nkind: example.com/gpu\ncontainerEdits: {{{}}}\n"
        "devices: [{{name: g, containerEdits: {{env: [A=1]}}}}]\n",
        edit);
    auto spec = ParseSpec(text, "f.yaml");
    ASSERT_FALSE(spec) << edit;
    EXPECT_NE(spec.error().ToString().find(field), std::string::npos)
        << edit << " -> " << spec.error().ToString();
  }
  EXPECT_FALSE(ParseSpec("cdiVersion: 0.6.0\nkind: example.com/gpu\ndevices: []\n"));
  EXPECT_FALSE(ParseSpec("cdiVersion: 0.6.0\nkind: example.com/gpu\ndevices: [{name: g}]\n"));
  EXPECT_FALSE(
      ParseSpec("kind: example.com/gpu\ndevices: [{name: g, containerEdits: "
                "{env: [A=1]}}]\n"));
}

TEST(CdiSpec, RefusesHostileInput) {
  // Malformed YAML: yaml-cpp's exception becomes an error with a position.
  auto broken = ParseSpec("cdiVersion: [\n", "broken.yaml");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().ToString().find("broken.yaml: line"), std::string::npos)
      << broken.error().ToString();
  EXPECT_FALSE(ParseSpec(""));
  EXPECT_FALSE(ParseSpec("just a string"));
  EXPECT_FALSE(ParseSpec("[1, 2]"));
  // Too large.
  std::string big = Minimal("0.6.0") + "# " + std::string(kMaxSpecBytes, 'x') + "\n";
  auto too_big = ParseSpec(big);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().ToString().find("larger than"), std::string::npos);
  // Deep nesting, in a field nobody reads: refused before any field is.
  std::string deep =
      "cdiVersion: 0.6.0\nannotations: " + std::string(100, '[') + std::string(100, ']') + "\n";
  auto too_deep = ParseSpec(deep);
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().ToString().find("deeper"), std::string::npos)
      << too_deep.error().ToString();
  // Far deeper: yaml-cpp's own guard (or ours), never a crash.
  EXPECT_FALSE(ParseSpec(std::string(100000, '[')));
  // A billion laughs: each level doubles what a walk that follows aliases visits.
  std::string laughs = "a0: &a0 [x, x]\n";
  for (int i = 1; i < 24; ++i) {  // 2^24 nodes, 25 levels deep
    laughs += fmt::format("a{}: &a{} [*a{}, *a{}]\n", i, i, i - 1, i - 1);
  }
  auto bomb = ParseSpec(laughs);
  ASSERT_FALSE(bomb);
  EXPECT_NE(bomb.error().ToString().find("nodes"), std::string::npos) << bomb.error().ToString();
}

TEST(CdiSpec, ReadsFilesAndRefusesOthers) {
  auto dir = os::TempDir::Create("cdi-spec-test-");
  ASSERT_TRUE(dir);
  const std::string path = dir->path() + "/gpu.yaml";
  ASSERT_TRUE(os::WriteFile(path, Minimal("0.6.0")));
  auto spec = ReadSpecFile(path);
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->source, path);
  EXPECT_FALSE(ReadSpecFile(dir->path()));  // a directory
  EXPECT_FALSE(ReadSpecFile(dir->path() + "/missing.yaml"));
}

}  // namespace
}  // namespace comet::cdi
