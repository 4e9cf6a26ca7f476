// Tests of comet-node's command line: the kubelet's flags and their defaults, the subcommands,
// and the errors.
#include "node/node_command_line.h"

#include <gtest/gtest.h>

namespace comet::node {
namespace {

Result<NodeInvocation> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "comet-node");
  NodeInvocation in;
  RETURN_IF_ERROR(ParseNodeCommandLine(args, in));
  return in;
}

TEST(NodeCommandLine, AgentDefaults) {
  auto in = Parse({"--pod-manifest-path=/etc/kubernetes/manifests"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, NodeInvocation::Command::kRun);
  EXPECT_EQ(in->flags.container_runtime, "rkt");
  EXPECT_EQ(in->flags.api_endpoint, "localhost:15441");
  EXPECT_EQ(in->flags.sync_frequency, std::chrono::seconds(10));
  EXPECT_EQ(in->flags.root_dir, "/var/lib/comet-node");
  EXPECT_EQ(in->flags.unit_dir, "/run/systemd/system");
  EXPECT_EQ(in->flags.supervision, Supervision::kAuto);
  EXPECT_TRUE(in->flags.rkt_path.empty());
}

TEST(NodeCommandLine, EveryFlag) {
  auto in =
      Parse({"--container-runtime=rkt", "--rkt-path=/usr/bin/comet",
             "--rkt-api-endpoint=127.0.0.1:9999", "--pod-manifest-path=/m", "--sync-frequency=1s",
             "--root-dir=/r", "--dir=/d", "--unit-dir=/u", "--systemd-bus=unix:path=/x",
             "--net=none", "--pod-supervision=direct", "--hostname-override=n1", "--debug"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->flags.rkt_path, "/usr/bin/comet");
  EXPECT_EQ(in->flags.api_endpoint, "127.0.0.1:9999");
  EXPECT_EQ(in->flags.sync_frequency, std::chrono::seconds(1));
  EXPECT_EQ(in->flags.data_dir, "/d");
  EXPECT_EQ(in->flags.unit_dir, "/u");
  EXPECT_EQ(in->flags.systemd_bus, "unix:path=/x");
  EXPECT_EQ(in->flags.net, "none");
  EXPECT_EQ(in->flags.supervision, Supervision::kDirect);
  EXPECT_EQ(in->flags.node_name, "n1");
  EXPECT_TRUE(in->flags.debug);
}

TEST(NodeCommandLine, Errors) {
  auto docker = Parse({"--container-runtime=docker", "--pod-manifest-path=/m"});
  ASSERT_FALSE(docker);
  EXPECT_NE(docker.error().ToString().find("only rkt"), std::string::npos);
  EXPECT_FALSE(Parse({}));  // the agent needs a manifest dir
  EXPECT_FALSE(Parse({"--pod-manifest-path=/m", "--sync-frequency=often"}));
  EXPECT_FALSE(Parse({"--pod-manifest-path=/m", "--sync-frequency=1ms"}));
  EXPECT_FALSE(Parse({"--pod-manifest-path=/m", "--pod-supervision=cron"}));
  EXPECT_FALSE(Parse({"--pod-manifest-path=/m", "--root-dir=relative"}));
  EXPECT_FALSE(Parse({"--pod-manifest-path=/m", "--bogus"}));
}

TEST(NodeCommandLine, GetPods) {
  auto in = Parse({"get", "pods"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, NodeInvocation::Command::kGetPods);
  EXPECT_TRUE(in->all_namespaces);
  auto ns = Parse(
      {"--rkt-api-endpoint=127.0.0.1:1", "get", "pods", "-n", "kube-system", "--root-dir=/r"});
  ASSERT_TRUE(ns) << ns.error().ToString();
  EXPECT_FALSE(ns->all_namespaces);
  EXPECT_EQ(ns->namespace_name, "kube-system");
  EXPECT_EQ(ns->flags.root_dir, "/r");
  EXPECT_EQ(ns->flags.api_endpoint, "127.0.0.1:1");
}

TEST(NodeCommandLine, DescribePod) {
  auto in = Parse({"describe", "pod", "web", "-n", "prod"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, NodeInvocation::Command::kDescribePod);
  EXPECT_EQ(in->pod_name, "web");
  EXPECT_EQ(in->namespace_name, "prod");
  EXPECT_FALSE(Parse({"describe", "pod"}));
}

TEST(NodeCommandLine, Help) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                {"get", "--help"},
                                                                {"get", "pods", "--help"},
                                                                {"describe", "pod", "--help"}}) {
    auto in = Parse(args);
    ASSERT_TRUE(in) << in.error().ToString();
    EXPECT_NE(in->output.find("Usage"), std::string::npos) << in->output;
  }
  EXPECT_NE(Parse({"--help"})->output.find("--rkt-api-endpoint"), std::string::npos);
}

TEST(ResolveRktPath, GivenOrFound) {
  EXPECT_EQ(ResolveRktPath("/bin/sh", "").value_or(""), "/bin/sh");
  EXPECT_EQ(ResolveRktPath("sh", "").value_or("").substr(0, 1), "/");
  EXPECT_FALSE(ResolveRktPath("/nonexistent/comet", ""));
  EXPECT_FALSE(ResolveRktPath("no-such-program-anywhere", ""));
}

}  // namespace
}  // namespace comet::node
