// Tests for published ports: the portmap entries and the free-port check.
#include "network/port_mapping.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/unique_fd.h"

namespace comet::network {
namespace {

PortMapping M(std::string ip, uint16_t host, uint16_t pod, std::string proto) {
  return PortMapping{std::move(ip), host, pod, std::move(proto)};
}

TEST(PortMapping, JsonRoundTrip) {
  std::vector<PortMapping> in = {M("", 8080, 80, "tcp"), M("::1", 53, 53, "udp")};
  json::Json j = PortMappingsJson(in);
  EXPECT_EQ(j[0].dump(), R"({"containerPort":80,"hostPort":8080,"protocol":"tcp"})");
  EXPECT_EQ(j[1]["hostIP"], "::1");
  auto back = ParsePortMappingsJson(j);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, in);
  EXPECT_FALSE(
      ParsePortMappingsJson(json::Json::parse(R"([{"hostPort":70000,"containerPort":1}])")));
  EXPECT_EQ(HostSide(in[0]), "8080/tcp");
  EXPECT_EQ(HostSide(in[1]), "[::1]:53/udp");
}

// A listener on an ephemeral loopback port, and the port number.
std::pair<os::UniqueFd, uint16_t> Listen(int type) {
  os::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd.get(), 1), 0);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return {std::move(fd), ntohs(addr.sin_port)};
}

TEST(PortMapping, DetectsTakenPorts) {
  auto [tcp, tcp_port] = Listen(SOCK_STREAM);
  auto st = CheckHostPortsFree({M("127.0.0.1", tcp_port, 80, "tcp")});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(),
            fmt::format("port {}/tcp on 127.0.0.1 is already in use", tcp_port));
  st = CheckHostPortsFree({M("", tcp_port, 80, "tcp")});  // 0.0.0.0 collides with 127.0.0.1
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("on 0.0.0.0 is already in use"), std::string::npos);
  EXPECT_TRUE(CheckHostPortsFree({M("127.0.0.1", tcp_port, 80, "udp")}));

  auto [udp, udp_port] = Listen(SOCK_DGRAM);
  st = CheckHostPortsFree({M("127.0.0.1", udp_port, 80, "udp")});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("/udp on 127.0.0.1 is already in use"), std::string::npos);

  st = CheckHostPortsFree({M("", 18080, 80, "tcp"), M("127.0.0.1", 18080, 81, "tcp")});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "port 127.0.0.1:18080/tcp is published twice");
  st = CheckHostPortsFree({M("192.0.2.77", 18080, 80, "tcp")});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find("not an address of this host"), std::string::npos);
}

TEST(PortMapping, ReservationHoldsThePort) {
  std::vector<PortMapping> ports = {M("127.0.0.1", 0, 80, "tcp")};
  auto [probe, port] = Listen(SOCK_STREAM);
  probe.Reset();  // a port that was free a moment ago
  ports[0].host_port = port;
  auto held = ReserveHostPorts(ports);
  ASSERT_TRUE(held) << held.error().ToString();
  ASSERT_EQ(held->size(), 1u);
  auto again = ReserveHostPorts(ports);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EADDRINUSE);
  held->clear();
  EXPECT_TRUE(ReserveHostPorts(ports));
}

}  // namespace
}  // namespace comet::network
