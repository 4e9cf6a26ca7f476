// Tests for CNI network config parsing, validation, plugin lookup and materialisation.
#include "network/cni_config.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::network {
namespace {

constexpr char kConflist[] = R"({
  "cniVersion": "1.0.0", "name": "mynet",
  "plugins": [
    {"type": "bridge", "bridge": "br9", "ipam": {"type": "host-local", "subnet": "10.9.0.0/24"}},
    {"type": "portmap", "capabilities": {"portMappings": true, "other": false}, "snat": true}
  ]})";

std::string ErrorOf(std::string_view text) {
  auto config = ParseNetworkConfig(text, "t.conf");
  return config ? "" : config.error().ToString();
}

TEST(CniConfig, ParsesConflistKeepingPluginObjects) {
  auto config = ParseNetworkConfig(kConflist, "a.conflist");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->name, "mynet");
  EXPECT_EQ(config->cni_version, "1.0.0");
  EXPECT_EQ(config->source, "a.conflist");
  ASSERT_EQ(config->plugins.size(), 2u);
  EXPECT_EQ(config->plugins[0].type, "bridge");
  EXPECT_EQ(config->plugins[0].object["bridge"], "br9");
  EXPECT_EQ(config->plugins[0].object["ipam"]["subnet"], "10.9.0.0/24");
  EXPECT_EQ(config->plugins[1].capabilities, std::vector<std::string>{"portMappings"});
  EXPECT_EQ(config->plugins[1].object["snat"], true);
}

TEST(CniConfig, ParsesSinglePluginConf) {
  auto config = ParseNetworkConfig(
      R"({"cniVersion": "0.3.1", "name": "old", "type": "ptp", "ipMasq": true})", "b.conf");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->cni_version, "0.3.1");
  ASSERT_EQ(config->plugins.size(), 1u);
  EXPECT_EQ(config->plugins[0].type, "ptp");
  EXPECT_EQ(config->plugins[0].object["ipMasq"], true);
  EXPECT_FALSE(HasCheckAndDelResult(config->cni_version));
}

TEST(CniConfig, RejectsBadNames) {
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"-x","type":"ptp"})").find("name: invalid"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"a/b","type":"ptp"})").find("t.conf"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"","type":"ptp"})").find("empty"),
            std::string::npos);
  std::string long_name(65, 'a');
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":")" + long_name + R"(","type":"ptp"})")
                .find("longer than 64"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","type":"ptp"})").find("name: missing"),
            std::string::npos);
  EXPECT_TRUE(ValidateNetworkName("a.b_c-9"));
}

TEST(CniConfig, RejectsUnsupportedVersions) {
  EXPECT_NE(ErrorOf(R"({"cniVersion":"0.2.0","name":"n","type":"ptp"})")
                .find("cniVersion: unsupported version \"0.2.0\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":1,"name":"n","type":"ptp"})").find("cniVersion"),
            std::string::npos);
}

TEST(CniConfig, RejectsPluginTypesThatAreNotFileNames) {
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","type":"../x"})")
                .find("invalid plugin type \"../x\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","type":"/bin/sh"})").find("type"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","type":".."})").find("type"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","type":"ptp","ipam":{"type":"a/b"}})")
                .find("ipam.type"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x/../y"}]})")
                .find("plugins[0].type"),
            std::string::npos);
}

TEST(CniConfig, RejectsMalformedDocuments) {
  EXPECT_NE(ErrorOf("{").find("t.conf: invalid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("[]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(100, '[') + std::string(100, ']')).find("nesting"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","plugins":[]})").find("plugins: empty"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","plugins":{}})").find("plugins"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","plugins":[3]})").find("plugins[0]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n","plugins":[{"x":1}]})")
                .find("plugins[0].type: missing"),
            std::string::npos);
  std::string many = R"({"cniVersion":"1.0.0","name":"n","plugins":[)";
  for (int i = 0; i < 33; ++i) {
    many += std::string(i ? "," : "") + R"({"type":"ptp"})";
  }
  EXPECT_NE(ErrorOf(many + "]}").find("more than the limit"), std::string::npos);
}

TEST(CniConfig, RejectsHugeFile) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = dir->path() + "/big.conf";
  std::string text = R"({"cniVersion":"1.0.0","name":"n","type":"ptp","pad":")" +
                     std::string(kMaxNetworkConfigBytes, 'x') + "\"}";
  ASSERT_TRUE(os::WriteFile(path, text));
  auto config = LoadNetworkConfigFile(path);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().ToString().find(path), std::string::npos);
  EXPECT_NE(config.error().ToString().find("larger than"), std::string::npos);
  EXPECT_FALSE(ParseNetworkConfig(text, "x"));
}

TEST(CniConfig, FindsPluginsAndNamesUnknownOnes) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::WriteFile(dir->path() + "/good", "#!/bin/sh\n", 0755));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/notexec", "", 0644));
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/adir"));
  std::vector<std::string> path = SplitCniPath("/nonexistent::" + dir->path());
  ASSERT_EQ(path.size(), 2u);
  auto found = FindPlugin("good", path);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(*found, dir->path() + "/good");
  EXPECT_FALSE(FindPlugin("notexec", path));
  EXPECT_FALSE(FindPlugin("adir", path));
  EXPECT_FALSE(FindPlugin("../good", path));

  auto config = ParseNetworkConfig(
      R"({"cniVersion":"1.0.0","name":"web","plugins":[{"type":"good"},{"type":"nope"}]})", "x");
  ASSERT_TRUE(config);
  auto st = CheckPluginsInstalled(*config, path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(),
            "network web: unknown plugin nope (not found in /nonexistent:" + dir->path() + ")");
  config = ParseNetworkConfig(
      R"({"cniVersion":"1.0.0","name":"web","type":"good","ipam":{"type":"missing-ipam"}})", "x");
  ASSERT_TRUE(config);
  st = CheckPluginsInstalled(*config, path);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("unknown plugin missing-ipam"), std::string::npos);
}

TEST(CniConfig, MaterializeSetsHostLocalDataDirOnlyWhereUnset) {
  auto config = ParseNetworkConfig(R"({"cniVersion":"1.0.0","name":"n","plugins":[
      {"type":"bridge","ipam":{"type":"host-local","subnet":"10.1.0.0/24"}},
      {"type":"bridge","ipam":{"type":"host-local","dataDir":"/keep"}},
      {"type":"bridge","ipam":{"type":"dhcp"}},
      {"type":"portmap"}]})",
                                   "x");
  ASSERT_TRUE(config) << config.error().ToString();
  NetworkConfig m = Materialize(*config, {.ipam_data_dir = "/tmp/leases"});
  EXPECT_EQ(m.plugins[0].object["ipam"]["dataDir"], "/tmp/leases");
  EXPECT_EQ(m.plugins[1].object["ipam"]["dataDir"], "/keep");
  EXPECT_FALSE(m.plugins[2].object["ipam"].contains("dataDir"));
  EXPECT_FALSE(m.plugins[3].object.contains("ipam"));
  NetworkConfig same = Materialize(*config, {});
  EXPECT_EQ(ToConfList(same), ToConfList(*config));
}

TEST(CniConfig, ConfListRoundTrip) {
  auto config = ParseNetworkConfig(kConflist, "a");
  ASSERT_TRUE(config);
  json::Json list = ToConfList(*config);
  auto back = FromConfList(list, "record");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->name, config->name);
  EXPECT_EQ(back->plugins.size(), 2u);
  EXPECT_EQ(back->plugins[1].capabilities, config->plugins[1].capabilities);
  EXPECT_EQ(ToConfList(*back), list);
  auto single = ParseNetworkConfig(R"({"cniVersion":"0.4.0","name":"s","type":"ptp"})", "s");
  ASSERT_TRUE(single);
  auto single_back = FromConfList(ToConfList(*single), "r");
  ASSERT_TRUE(single_back) << single_back.error().ToString();
  EXPECT_EQ(single_back->plugins[0].type, "ptp");
}

}  // namespace
}  // namespace comet::network
