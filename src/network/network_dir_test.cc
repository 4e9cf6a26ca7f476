// Tests for the built-in default network and loading a network config directory.
#include "network/network_dir.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "network/subnet.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::network {
namespace {

std::string Conf(std::string_view name, std::string_view subnet = "10.5.0.0/24") {
  return fmt::format(
      R"({{"cniVersion":"0.4.0","name":"{}","type":"bridge","ipam":{{"type":"host-local","subnet":"{}"}}}})",
      name, subnet);
}

TEST(NetworkDir, DefaultNetworkIsBridgePortmapFirewall) {
  NetworkConfig config = DefaultNetwork();
  EXPECT_EQ(config.name, "default");
  EXPECT_EQ(config.cni_version, "1.0.0");
  ASSERT_EQ(config.plugins.size(), 3u);
  EXPECT_EQ(config.plugins[0].type, "bridge");
  EXPECT_EQ(config.plugins[0].object["bridge"], "comet0");
  EXPECT_EQ(config.plugins[0].object["isGateway"], true);
  EXPECT_EQ(config.plugins[0].object["ipMasq"], true);
  EXPECT_EQ(config.plugins[0].object["hairpinMode"], true);
  EXPECT_EQ(HostLocalSubnets(config), std::vector<std::string>{"172.16.28.0/24"});
  EXPECT_EQ(config.plugins[1].type, "portmap");
  EXPECT_EQ(config.plugins[1].capabilities, std::vector<std::string>{"portMappings"});
  EXPECT_EQ(config.plugins[2].type, "firewall");
  // What the built-in config says must survive the record round trip unchanged.
  auto back = FromConfList(ToConfList(config), "r");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(ToConfList(*back), ToConfList(config));

  NetworkConfig dual =
      DefaultNetwork({.bridge = "t0", .subnet = "10.99.1.0/24", .ipv6_subnet = "fd99::/64"});
  EXPECT_EQ(HostLocalSubnets(dual), (std::vector<std::string>{"10.99.1.0/24", "fd99::/64"}));
  EXPECT_EQ(dual.plugins[0].object["ipam"]["routes"].size(), 2u);
}

TEST(NetworkDir, MissingDirHasOnlyTheDefault) {
  auto catalog = LoadNetworks("/nonexistent/net.d");
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  ASSERT_EQ(catalog->networks.size(), 1u);
  EXPECT_NE(catalog->Find("default"), nullptr);
  EXPECT_EQ(catalog->Find("other"), nullptr);
}

TEST(NetworkDir, LoadsFilesInNameOrder) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::WriteFile(dir->path() + "/20-b.conflist",
                            R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"ptp"}]})"));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/10-a.conf", Conf("a")));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/30-c.json", Conf("c")));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/README", "not json"));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/.10-a.conf.swp", "junk"));
  auto catalog = LoadNetworks(dir->path());
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  ASSERT_EQ(catalog->networks.size(), 4u);
  EXPECT_EQ(catalog->networks[0].name, "default");
  EXPECT_EQ(catalog->networks[1].name, "a");
  EXPECT_EQ(catalog->networks[1].source, dir->path() + "/10-a.conf");
  EXPECT_EQ(catalog->networks[2].name, "b");
  EXPECT_EQ(catalog->networks[3].name, "c");
}

TEST(NetworkDir, FileMayOverrideDefault) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::WriteFile(dir->path() + "/default.conf", Conf("default")));
  auto catalog = LoadNetworks(dir->path());
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  ASSERT_EQ(catalog->networks.size(), 1u);
  EXPECT_EQ(catalog->Find("default")->source, dir->path() + "/default.conf");
}

TEST(NetworkDir, DuplicateNameNamesBothFiles) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::WriteFile(dir->path() + "/1.conf", Conf("same")));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/2.conf", Conf("same")));
  auto catalog = LoadNetworks(dir->path());
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().ToString(), "network same is defined twice: in " + dir->path() +
                                            "/1.conf and in " + dir->path() + "/2.conf");
}

TEST(NetworkDir, BadFileIsNamed) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::WriteFile(dir->path() + "/1.conf", Conf("fine")));
  ASSERT_TRUE(os::WriteFile(dir->path() + "/2.conf", R"({"cniVersion":"1.0.0","name":"x"})"));
  auto catalog = LoadNetworks(dir->path());
  ASSERT_FALSE(catalog);
  EXPECT_NE(catalog.error().ToString().find(dir->path() + "/2.conf: type: missing"),
            std::string::npos)
      << catalog.error().ToString();
}

TEST(NetworkDir, ReservedNamesAreRejected) {
  for (std::string name : {"none", "host", "all"}) {
    auto dir = os::TempDir::Create();
    ASSERT_TRUE(dir);
    ASSERT_TRUE(os::WriteFile(dir->path() + "/x.conf", Conf(name)));
    auto catalog = LoadNetworks(dir->path());
    ASSERT_FALSE(catalog) << name;
    EXPECT_NE(catalog.error().ToString().find("is reserved"), std::string::npos);
  }
}

}  // namespace
}  // namespace comet::network
