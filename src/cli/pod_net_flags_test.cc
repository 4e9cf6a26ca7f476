#include "cli/pod_net_flags.h"

#include <gtest/gtest.h>

namespace comet::cli {
namespace {

TEST(NetFlagTest, ModesAndNetworks) {
  pod::PodManifest pod;
  ASSERT_TRUE(ApplyNetFlag("host", pod));
  EXPECT_EQ(pod.net, pod::NetMode::kHost);
  ASSERT_TRUE(ApplyNetFlag("default,backend", pod));
  EXPECT_EQ(pod.net, pod::NetMode::kNetworks);
  EXPECT_EQ(pod.networks, (std::vector<std::string>{"default", "backend"}));
  ASSERT_TRUE(ApplyNetFlag("ns:/run/netns/blue", pod));
  EXPECT_EQ(pod.net, pod::NetMode::kNetns);
  EXPECT_EQ(pod.netns, "/run/netns/blue");
  EXPECT_TRUE(pod.networks.empty()) << "the last --net wins whole";
  ASSERT_TRUE(ApplyNetFlag("none", pod));
  EXPECT_EQ(pod.net, pod::NetMode::kNone);
  EXPECT_TRUE(pod.netns.empty());
}

TEST(NetFlagTest, BadValuesNameTheFlag) {
  pod::PodManifest pod;
  for (const char* bad : {"ns:", "ns:relative", "a,,b", ",", "default,"}) {
    auto st = ApplyNetFlag(bad, pod);
    ASSERT_FALSE(st) << bad;
    EXPECT_NE(st.error().ToString().find("--net"), std::string::npos) << st.error().ToString();
  }
}

TEST(PortFlagTest, NumericForms) {
  auto p = ParsePortFlag("8080:80");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->host_port, 8080U);
  EXPECT_EQ(p->pod_port, 80U);
  EXPECT_EQ(p->protocol, "tcp");
  EXPECT_TRUE(p->host_ip.empty());
  p = ParsePortFlag("127.0.0.1:5353:53/udp");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->host_ip, "127.0.0.1");
  EXPECT_EQ(p->host_port, 5353U);
  EXPECT_EQ(p->pod_port, 53U);
  EXPECT_EQ(p->protocol, "udp");
  p = ParsePortFlag("[::1]:8443:443");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->host_ip, "::1");
  EXPECT_EQ(p->host_port, 8443U);
  EXPECT_EQ(p->pod_port, 443U);
}

TEST(PortFlagTest, RktNamedForms) {
  auto p = ParsePortFlag("80-tcp:8080");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->name, "80-tcp");
  EXPECT_EQ(p->host_port, 8080U);
  EXPECT_EQ(p->pod_port, 0U);
  p = ParsePortFlag("http:127.0.0.2:8080");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->name, "http");
  EXPECT_EQ(p->host_ip, "127.0.0.2");
  p = ParsePortFlag("http:[::1]:8080");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->host_ip, "::1");
}

TEST(PortFlagTest, BadValuesSayWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"80", "expected"},
      {"0:80", "not a port number"},
      {"8080:65536", "not a port number"},
      {"8080:80/sctp", "protocol"},
      {"999.1.1.1:8080:80", "not an IP address"},
      {"[::1:8080:80", "expected [IPV6]:HOSTPORT"},
      {"http:8080/udp", "named port"},
      {"http:x", "not a port number"},
  };
  for (const auto& [text, want] : cases) {
    auto p = ParsePortFlag(text);
    ASSERT_FALSE(p) << text;
    EXPECT_NE(p.error().ToString().find(want), std::string::npos)
        << text << ": " << p.error().ToString();
    EXPECT_NE(p.error().ToString().find("--port"), std::string::npos);
  }
}

TEST(PortFlagTest, HostileValuesAreRefused) {
  for (const char* bad : {"",
                          "8080",
                          "0:80",
                          "8080:0",
                          "70000:80",
                          "8080:80/sctp",
                          "8080:80/",
                          "a:b:c:d",
                          "1.2.3:8080:80",
                          "::1:8080:80",
                          "[::1]8080:80",
                          "[zz]:80:80",
                          "[::1:80:80",
                          "http:",
                          "http:x",
                          "http:80:90",
                          "8080:80:90",
                          "-1:80",
                          "1.2.3.4:80",
                          "http:8080/tcp",
                          "a\nb:80"}) {
    auto p = ParsePortFlag(bad);
    EXPECT_FALSE(p) << bad;
    if (!p) {
      EXPECT_NE(p.error().ToString().find("--port"), std::string::npos) << p.error().ToString();
    }
  }
}

TEST(HostsEntryFlagTest, Forms) {
  auto e = ParseHostsEntryFlag("10.0.0.5=db");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ip, "10.0.0.5");
  EXPECT_EQ(e->names, std::vector<std::string>{"db"});
  e = ParseHostsEntryFlag("fd00::1=a,b.example");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->names, (std::vector<std::string>{"a", "b.example"}));
  EXPECT_FALSE(ParseHostsEntryFlag("db=10.0.0.5"));
  EXPECT_FALSE(ParseHostsEntryFlag("10.0.0.5="));
  EXPECT_FALSE(ParseHostsEntryFlag("10.0.0.5"));
}

TEST(NamedPortsTest, ResolvedFromExposedPorts) {
  std::vector<ExposedPort> exposed =
      NamedExposedPorts({"80/tcp", "53/udp", "8080", "x/tcp", "70000/tcp", "9/sctp"});
  ASSERT_EQ(exposed.size(), 3U);
  EXPECT_EQ(exposed[2].name, "8080-tcp");
  std::vector<pod::PortMapping> ports = {*ParsePortFlag("53-udp:5353"), *ParsePortFlag("9000:90")};
  ASSERT_TRUE(ResolveNamedPorts(ports, exposed));
  EXPECT_EQ(ports[0].pod_port, 53U);
  EXPECT_EQ(ports[0].protocol, "udp");
  EXPECT_EQ(ports[1].pod_port, 90U);
  std::vector<pod::PortMapping> unknown = {*ParsePortFlag("http:8080")};
  auto st = ResolveNamedPorts(unknown, exposed);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("80-tcp, 53-udp, 8080-tcp"), std::string::npos)
      << st.error().ToString();
}

}  // namespace
}  // namespace comet::cli
