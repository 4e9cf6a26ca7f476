// Tests for IP prefixes and the subnet overlap check.
#include "network/subnet.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

namespace comet::network {
namespace {

IpPrefix P(std::string_view text) {
  auto p = ParsePrefix(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(IpPrefix{});
}

TEST(Subnet, ParsesPrefixes) {
  EXPECT_EQ(P("10.0.0.0/8").family, AF_INET);
  EXPECT_EQ(P("10.0.0.0/8").length, 8);
  EXPECT_EQ(P("fd00::/64").family, AF_INET6);
  for (std::string_view bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0/8", "fd00::/129", "x/1",
                               "10.0.0.0/-1", "10.0.0.0/ 8", ""}) {
    EXPECT_FALSE(ParsePrefix(bad)) << bad;
  }
}

TEST(Subnet, Overlaps) {
  EXPECT_TRUE(Overlaps(P("10.0.0.0/8"), P("10.1.2.0/24")));
  EXPECT_TRUE(Overlaps(P("10.1.2.0/24"), P("10.0.0.0/8")));
  EXPECT_FALSE(Overlaps(P("10.1.2.0/24"), P("10.1.3.0/24")));
  EXPECT_TRUE(Overlaps(P("10.1.2.128/25"), P("10.1.2.0/24")));
  EXPECT_FALSE(Overlaps(P("10.1.2.128/25"), P("10.1.2.0/25")));
  EXPECT_TRUE(Overlaps(P("0.0.0.0/0"), P("192.168.0.0/16")));
  EXPECT_TRUE(Overlaps(P("fd00::/8"), P("fd12::/64")));
  EXPECT_FALSE(Overlaps(P("fd00::/64"), P("fd00:0:0:1::/64")));
  EXPECT_FALSE(Overlaps(P("10.0.0.0/8"), P("a00::/8")));  // families never overlap
}

NetworkConfig Net(const std::string& name, const std::string& ipam) {
  auto config = ParseNetworkConfig(R"({"cniVersion":"1.0.0","name":")" + name +
                                       R"(","plugins":[{"type":"bridge","ipam":)" + ipam + "}]}",
                                   name);
  EXPECT_TRUE(config) << config.error().ToString();
  return config.value_or(NetworkConfig{});
}

TEST(Subnet, ReportsOverlappingNetworks) {
  NetworkConfig a = Net("a", R"({"type":"host-local","subnet":"10.1.0.0/16"})");
  NetworkConfig b = Net(
      "b",
      R"({"type":"host-local","ranges":[[{"subnet":"fd00::/64"}],[{"subnet":"10.1.5.0/24"}]]})");
  NetworkConfig c = Net("c", R"({"type":"host-local","ranges":[[{"subnet":"10.2.0.0/24"}]]})");
  NetworkConfig d = Net("d", R"({"type":"dhcp","subnet":"10.1.0.0/16"})");
  EXPECT_EQ(HostLocalSubnets(b), (std::vector<std::string>{"fd00::/64", "10.1.5.0/24"}));
  EXPECT_TRUE(CheckSubnetOverlap({&a, &c, &d}));
  auto st = CheckSubnetOverlap({&a, &c, &b});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(),
            "network a subnet 10.1.0.0/16 overlaps network b subnet 10.1.5.0/24");
  NetworkConfig bad = Net("bad", R"({"type":"host-local","subnet":"10.1.0.0"})");
  st = CheckSubnetOverlap({&bad});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("network bad: invalid subnet"), std::string::npos);
}

}  // namespace
}  // namespace comet::network
