// Tests for CNI result parsing.
#include "network/cni_result.h"

#include <gtest/gtest.h>

namespace comet::network {
namespace {

TEST(CniResult, ParsesSpec10Result) {
  auto result = ParseCniResult(json::Json::parse(R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "comet0", "mac": "aa:bb:cc:dd:ee:01"},
                   {"name": "veth1", "mac": "aa:bb:cc:dd:ee:02"},
                   {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/run/netns/x"}],
    "ips": [{"address": "10.0.0.5/24", "gateway": "10.0.0.1", "interface": 2},
            {"address": "fd00::5/64", "gateway": "fd00::1", "interface": 2}],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.9.0.0/16", "gw": "10.0.0.254"}],
    "dns": {"nameservers": ["10.0.0.1"], "domain": "example", "search": ["a"], "options": ["x"]}
  })"));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->cni_version, "1.0.0");
  ASSERT_EQ(result->interfaces.size(), 3u);
  EXPECT_EQ(result->interfaces[2].sandbox, "/run/netns/x");
  ASSERT_EQ(result->ips.size(), 2u);
  EXPECT_EQ(result->ips[0].version, 4);
  EXPECT_EQ(result->ips[1].version, 6);
  EXPECT_EQ(result->routes[1].gw, "10.0.0.254");
  EXPECT_EQ(result->dns.nameservers, std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(result->dns.domain, "example");
  ASSERT_NE(result->FirstIp(4, "eth0"), nullptr);
  EXPECT_EQ(result->FirstIp(4, "eth0")->gateway, "10.0.0.1");
  EXPECT_EQ(result->FirstIp(6, "eth0")->address, "fd00::5/64");
  EXPECT_EQ(result->FirstIp(4, "eth1"), nullptr);
}

TEST(CniResult, ParsesOldResultWithVersionField) {
  auto result = ParseCniResult(json::Json::parse(
      R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"172.16.28.2/24"}]})"));
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_NE(result->FirstIp(4, "eth0"), nullptr);  // no interface index: any pod interface
  EXPECT_EQ(result->FirstIp(4, "eth0")->address, "172.16.28.2/24");
}

TEST(CniResult, RejectsBadFields) {
  auto bad = [](const char* text) {
    auto r = ParseCniResult(json::Json::parse(text));
    return r ? std::string() : r.error().ToString();
  };
  EXPECT_NE(bad(R"({"ips":[{"address":"10.0.0.1"}]})").find("ips[0].address"), std::string::npos);
  EXPECT_NE(bad(R"({"ips":[{"version":"6","address":"10.0.0.1/8"}]})").find("ips[0].version"),
            std::string::npos);
  EXPECT_NE(bad(R"({"ips":[{}]})").find("ips[0].address: missing"), std::string::npos);
  EXPECT_NE(bad(R"({"ips":{}})").find("ips"), std::string::npos);
  EXPECT_NE(bad(R"({"interfaces":[{"name":3}]})").find("interfaces[0].name"), std::string::npos);
  EXPECT_NE(bad(R"({"routes":[{"gw":"1.2.3.4"}]})").find("routes[0].dst"), std::string::npos);
  EXPECT_NE(bad(R"({"dns":{"nameservers":"x"}})").find("dns.nameservers"), std::string::npos);
  EXPECT_NE(bad(R"([1])").find("expected object"), std::string::npos);
}

}  // namespace
}  // namespace comet::network
