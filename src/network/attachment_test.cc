// Tests for the attachment record and its JSON form.
#include "network/attachment.h"

#include <gtest/gtest.h>

#include "network/network_dir.h"

namespace comet::network {
namespace {

NetworkAttachment Sample() {
  NetworkAttachment a;
  a.network = "default";
  a.invocation = {.container_id = "0f6e2b1c-uuid",
                  .netns = "/run/comet/netns/0f6e2b1c",
                  .ifname = "eth0",
                  .cni_args = "IP=172.16.28.9",
                  .port_mappings = {PortMapping{"", 8080, 80, "tcp"}}};
  a.config = ToConfList(Materialize(DefaultNetwork(), {.ipam_data_dir = "/run/x"}));
  a.result = json::Json::parse(R"({"cniVersion":"1.0.0",
      "interfaces":[{"name":"comet0"},{"name":"eth0","sandbox":"/run/comet/netns/0f6e2b1c"}],
      "ips":[{"address":"172.16.28.9/24","gateway":"172.16.28.1","interface":1},
             {"address":"fd00::9/64","gateway":"fd00::1","interface":1}]})");
  return a;
}

TEST(Attachment, SummarizesAddresses) {
  NetworkAttachment a = Sample();
  ASSERT_TRUE(Summarize(&a));
  EXPECT_EQ(a.ipv4, "172.16.28.9/24");
  EXPECT_EQ(a.gateway4, "172.16.28.1");
  EXPECT_EQ(a.ipv6, "fd00::9/64");
  EXPECT_EQ(a.gateway6, "fd00::1");
  a.result.reset();
  ASSERT_TRUE(Summarize(&a));
  EXPECT_EQ(a.ipv4, "");
}

TEST(Attachment, RoundTrips) {
  NetworkAttachment a = Sample();
  ASSERT_TRUE(Summarize(&a));
  NetworkAttachment pending = Sample();
  pending.network = "other";
  pending.result.reset();
  std::string text = AttachmentsToJson({a, pending});
  auto back = ParseAttachments(text);
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->size(), 2u);
  const NetworkAttachment& b = (*back)[0];
  EXPECT_EQ(b.network, "default");
  EXPECT_EQ(b.invocation.container_id, a.invocation.container_id);
  EXPECT_EQ(b.invocation.netns, a.invocation.netns);
  EXPECT_EQ(b.invocation.ifname, "eth0");
  EXPECT_EQ(b.invocation.cni_args, a.invocation.cni_args);
  EXPECT_EQ(b.invocation.port_mappings, a.invocation.port_mappings);
  EXPECT_EQ(b.config, a.config);
  ASSERT_TRUE(b.result);
  EXPECT_EQ(*b.result, *a.result);
  EXPECT_EQ(b.ipv4, "172.16.28.9/24");
  EXPECT_EQ(b.gateway6, "fd00::1");
  EXPECT_FALSE((*back)[1].result);
  EXPECT_EQ(AttachmentsToJson(*back), text);
}

TEST(Attachment, RejectsBadRecords) {
  EXPECT_FALSE(ParseAttachments("{"));
  EXPECT_FALSE(ParseAttachments(R"({"version":2,"networks":[]})"));
  EXPECT_FALSE(ParseAttachments(R"({"version":1,"networks":[{"name":"x"}]})"));
  auto r = ParseAttachments(
      R"({"version":1,"networks":[{"name":"x","ifname":"eth0","containerId":"c",
          "config":{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"../evil"}]}}]})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("invalid plugin type"), std::string::npos);
  EXPECT_TRUE(ParseAttachments(R"({"version":1,"networks":[]})"));
}

}  // namespace
}  // namespace comet::network
