#include "supervisor/rootless_net.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_networks.h"

namespace comet::supervisor {
namespace {

using ::testing::HasSubstr;

pod::PortMapping Port(std::string host_ip, uint32_t host, uint32_t pod, std::string proto) {
  pod::PortMapping port;
  port.host_ip = std::move(host_ip);
  port.host_port = host;
  port.pod_port = pod;
  port.protocol = std::move(proto);
  return port;
}

void MakeExecutable(const std::string& path) {
  ASSERT_TRUE(os::WriteFile(path, "#!/bin/sh\n", 0755));
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
}

TEST(FindRootlessNetToolTest, PrefersPastaThenSlirp4netnsInPathOrder) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string a = os::JoinPath(dir->path(), "a");
  const std::string b = os::JoinPath(dir->path(), "b");
  ASSERT_TRUE(os::MkdirAll(a, 0755));
  ASSERT_TRUE(os::MkdirAll(b, 0755));
  MakeExecutable(os::JoinPath(a, "slirp4netns"));
  const std::string path = a + ":relative:" + b;
  auto slirp = FindRootlessNetTool(path.c_str());
  ASSERT_TRUE(slirp) << slirp.error().ToString();
  EXPECT_EQ(slirp->kind, RootlessNetKind::kSlirp4netns);
  EXPECT_EQ(slirp->path, os::JoinPath(a, "slirp4netns"));
  MakeExecutable(os::JoinPath(b, "pasta"));
  auto pasta = FindRootlessNetTool(path.c_str());
  ASSERT_TRUE(pasta);
  EXPECT_EQ(pasta->kind, RootlessNetKind::kPasta);
  EXPECT_EQ(pasta->path, os::JoinPath(b, "pasta"));
}

TEST(FindRootlessNetToolTest, NeitherInstalledSaysWhatToInstall) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  auto none = FindRootlessNetTool(dir->path().c_str());
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().ToString(),
              HasSubstr("rootless networking needs pasta (package passt) or slirp4netns"));
}

TEST(CheckRootlessNetworksTest, OnlyDefault) {
  pod::PodManifest manifest;
  manifest.net = pod::NetMode::kNetworks;
  manifest.networks = {"default"};
  EXPECT_TRUE(CheckRootlessNetworks(manifest));
  manifest.networks = {"backend"};
  auto error = CheckRootlessNetworks(manifest);
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error().ToString(), HasSubstr("--net backend: a rootless pod can only"));
  manifest.networks = {"default", "backend"};
  EXPECT_FALSE(CheckRootlessNetworks(manifest));
}

TEST(RootlessNetArgvTest, PastaForwardsOnlyThePublishedPorts) {
  RootlessNetTool tool{RootlessNetKind::kPasta, "/usr/bin/pasta"};
  auto argv = RootlessNetArgv(
      tool, {Port("127.0.0.1", 8080, 80, "tcp"), Port("", 5353, 53, "udp"), Port("", 9, 90, "tcp")},
      "");
  const std::string line = Join(argv, " ");
  EXPECT_THAT(line, HasSubstr("--config-net"));
  EXPECT_THAT(line, HasSubstr("-t 127.0.0.1/8080:80,9:90 -u 5353:53 -T none -U none"));
  EXPECT_THAT(line, HasSubstr("--netns /proc/self/fd/3"));
  EXPECT_THAT(line, HasSubstr("--pid /proc/self/fd/4"));
  auto none = Join(RootlessNetArgv(tool, {}, ""), " ");
  EXPECT_THAT(none, HasSubstr("-t none -u none"));
}

TEST(RootlessNetArgvTest, Slirp4netns) {
  RootlessNetTool tool{RootlessNetKind::kSlirp4netns, "/usr/bin/slirp4netns"};
  auto argv = RootlessNetArgv(tool, {}, "/run/x/slirp.sock");
  EXPECT_THAT(argv, ::testing::Contains("--api-socket"));
  EXPECT_THAT(argv, ::testing::Contains("--exit-fd=5"));
  EXPECT_THAT(argv, ::testing::Contains("--ready-fd=4"));
  EXPECT_EQ(argv[argv.size() - 2], "/proc/self/fd/3");
  EXPECT_EQ(argv.back(), "tap0");
}

TEST(SlirpApiTest, RequestAndReplies) {
  json::Json request = SlirpHostFwdRequest(Port("", 8080, 80, "tcp"));
  EXPECT_EQ(request["execute"], "add_hostfwd");
  EXPECT_EQ(request["arguments"]["host_addr"], "0.0.0.0");
  EXPECT_EQ(request["arguments"]["host_port"], 8080);
  EXPECT_EQ(request["arguments"]["guest_port"], 80);
  EXPECT_TRUE(CheckSlirpReply(R"({"return":{"id":1}})"));
  auto taken =
      CheckSlirpReply(R"({"error":{"desc":"bad request: add_hostfwd: slirp_add_hostfwd failed"}})");
  ASSERT_FALSE(taken);
  EXPECT_THAT(taken.error().ToString(), HasSubstr("slirp_add_hostfwd failed"));
  EXPECT_FALSE(CheckSlirpReply("garbage"));
}

TEST(RootlessResolvConfTest, SlirpDnsFirstLoopbackDropped) {
  const std::string host = "nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example.org\n";
  EXPECT_EQ(RootlessResolvConf(RootlessNetKind::kSlirp4netns, host),
            "nameserver 10.0.2.3\nnameserver 192.0.2.1\nsearch example.org\n");
  EXPECT_EQ(RootlessResolvConf(RootlessNetKind::kPasta, host),
            "nameserver 192.0.2.1\nsearch example.org\n");
}

TEST(RootlessNetRecordTest, RoundTripsAndShowsAddresses) {
  auto record = RootlessNetRecord(RootlessNetKind::kSlirp4netns, "uuid-1", "tap0", "10.0.2.100/24",
                                  "10.0.2.2", "");
  ASSERT_TRUE(record) << record.error().ToString();
  EXPECT_TRUE(pod::IsRootlessNetworkRecord(*record));
  EXPECT_EQ(record->ipv4, "10.0.2.100/24");
  EXPECT_EQ(record->gateway4, "10.0.2.2");
  auto parsed = network::ParseAttachments(network::AttachmentsToJson({*record}));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  ASSERT_EQ(parsed->size(), 1U);
  EXPECT_TRUE(pod::IsRootlessNetworkRecord((*parsed)[0]));
  auto addresses = pod::NetworkAddresses(*parsed);
  ASSERT_EQ(addresses.size(), 1U);
  EXPECT_EQ(addresses[0].name, "default");
  EXPECT_EQ(addresses[0].ipv4, "10.0.2.100");
}

TEST(RootlessNetRecordTest, DetachNetworksSkipsRootlessRecords) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::MkdirAll(os::JoinPath(dir->path(), "state"), 0755));
  auto record =
      RootlessNetRecord(RootlessNetKind::kPasta, "uuid-1", "eth0", "192.0.2.5/24", "", "");
  ASSERT_TRUE(record);
  ASSERT_TRUE(pod::WriteNetworkRecords(dir->path(), {*record}));
  // No plugin named "pasta" is run (there is none): the record just goes.
  ASSERT_TRUE(pod::DetachNetworks(dir->path(), "uuid-1"));
  auto left = pod::ReadNetworkRecords(dir->path());
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

}  // namespace
}  // namespace comet::supervisor
