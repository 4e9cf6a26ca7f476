// Tests for plugin runs, chains and pod attach/detach against fake plugins (shell scripts that
// log their environment and stdin), so no root or real network is needed.
#include "network/cni_exec.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "network/pod_network.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::network {
namespace {

// Each plugin appends "COMMAND NAME IFNAME" to $DIR/log and saves its stdin in
// $DIR/in.NAME.COMMAND; `body` then decides what it prints.
constexpr char kPrologue[] = R"(#!/bin/sh
d=$(dirname "$0"); n=$(basename "$0")
cat > "$d/in.$n.$CNI_COMMAND"
echo "$CNI_COMMAND $n $CNI_IFNAME" >> "$d/log"
env | grep ^CNI_ | sort > "$d/env.$n.$CNI_COMMAND"
)";

class CniExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-cni-");
    ASSERT_TRUE(dir);
    dir_ = std::move(*dir);
    options_.cni_path = {dir_.path()};
    options_.plugin_timeout = std::chrono::milliseconds(2000);
    Plugin(
        "first",
        R"([ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0}]}' || true)");
    Plugin(
        "second",
        R"([ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.3/24"}]}' || true)");
    Plugin("silent", "exit 0");
    Plugin(
        "fail",
        R"(if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","code":7,"msg":"bad thing","details":"more"}'; exit 1; fi)");
    Plugin("garbage", "echo boom >&2; exit 2");
    Plugin("slow", "sleep 10");
  }

  void Plugin(const std::string& name, const std::string& body) {
    ASSERT_TRUE(os::WriteFile(dir_.path() + "/" + name, kPrologue + body + "\n", 0755));
  }

  static NetworkConfig Net(const std::string& name, const std::vector<std::string>& types,
                           const std::string& version = "1.0.0") {
    NetworkConfig config;
    config.name = name;
    config.cni_version = version;
    for (const std::string& type : types) {
      PluginConfig p;
      p.type = type;
      p.object = {{"type", type}, {"setting", 1}};
      if (type == "second") {
        p.capabilities = {"portMappings"};
        p.object["capabilities"] = {{"portMappings", true}};
      }
      config.plugins.push_back(std::move(p));
    }
    return config;
  }

  std::string Log() { return os::ReadFile(dir_.path() + "/log").value_or(""); }
  json::Json Stdin(const std::string& plugin, const std::string& command) {
    return json::Json::parse(os::ReadFile(dir_.path() + "/in." + plugin + "." + command).value());
  }

  static CniInvocation Invocation() {
    CniInvocation inv;
    inv.container_id = "pod-1";
    inv.netns = "/proc/self/ns/net";
    inv.ifname = "eth0";
    return inv;
  }

  os::TempDir dir_ = std::move(*os::TempDir::Create());
  CniRuntimeOptions options_;
};

TEST_F(CniExecTest, AddChainsPrevResultAndSetsEnvironment) {
  CniInvocation inv = Invocation();
  inv.cni_args = "IP=10.0.0.2";
  inv.port_mappings = {PortMapping{"", 8080, 80, "tcp"}};
  auto result = AddNetwork(Net("n", {"first", "silent", "second"}), inv, options_);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["ips"][0]["address"], "10.0.0.3/24");
  EXPECT_EQ(Log(), "ADD first eth0\nADD silent eth0\nADD second eth0\n");

  json::Json first = Stdin("first", "ADD");
  EXPECT_EQ(first["name"], "n");
  EXPECT_EQ(first["cniVersion"], "1.0.0");
  EXPECT_EQ(first["setting"], 1);
  EXPECT_FALSE(first.contains("prevResult"));
  EXPECT_FALSE(first.contains("runtimeConfig"));  // "first" declares no capability
  // "silent" printed nothing, so "second" still gets the result of "first".
  EXPECT_EQ(Stdin("silent", "ADD")["prevResult"]["ips"][0]["address"], "10.0.0.2/24");
  json::Json second = Stdin("second", "ADD");
  EXPECT_EQ(second["prevResult"]["ips"][0]["address"], "10.0.0.2/24");
  EXPECT_EQ(second["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);

  std::string env = os::ReadFile(dir_.path() + "/env.first.ADD").value();
  EXPECT_EQ(env,
            "CNI_ARGS=IP=10.0.0.2\nCNI_COMMAND=ADD\nCNI_CONTAINERID=pod-1\n"
            "CNI_IFNAME=eth0\nCNI_NETNS=/proc/self/ns/net\nCNI_PATH=" +
                dir_.path() + "\n");
}

TEST_F(CniExecTest, DelRunsInReverseWithTheAddResult) {
  json::Json add = json::Json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24"}]})");
  ASSERT_TRUE(DelNetwork(Net("n", {"first", "second"}), Invocation(), &add, options_));
  EXPECT_EQ(Log(), "DEL second eth0\nDEL first eth0\n");
  EXPECT_EQ(Stdin("first", "DEL")["prevResult"], add);
  EXPECT_EQ(Stdin("second", "DEL")["prevResult"], add);
  // 0.3.x chains get no prevResult on DEL.
  ASSERT_TRUE(DelNetwork(Net("n", {"first"}, "0.3.1"), Invocation(), &add, options_));
  EXPECT_FALSE(Stdin("first", "DEL").contains("prevResult"));
}

TEST_F(CniExecTest, DelGoesOnPastFailuresAndReturnsTheFirst) {
  auto st = DelNetwork(Net("n", {"first", "garbage", "second"}), Invocation(), nullptr, options_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "network n: plugin garbage: exited with status 2: boom");
  EXPECT_EQ(Log(), "DEL second eth0\nDEL garbage eth0\nDEL first eth0\n");
}

TEST_F(CniExecTest, PluginErrorJsonBecomesTheMessage) {
  auto result = AddNetwork(Net("web", {"first", "fail", "second"}), Invocation(), options_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().ToString(), "network web: plugin fail: bad thing (more)");
  EXPECT_EQ(Log(), "ADD first eth0\nADD fail eth0\n");
}

TEST_F(CniExecTest, SlowPluginIsKilled) {
  options_.plugin_timeout = std::chrono::milliseconds(200);
  auto result = AddNetwork(Net("n", {"slow"}), Invocation(), options_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ETIMEDOUT);
  EXPECT_NE(result.error().ToString().find("network n: plugin slow: ADD timed out"),
            std::string::npos);
}

TEST_F(CniExecTest, CheckNeedsVersion040) {
  json::Json add = json::Json::object();
  ASSERT_TRUE(CheckNetwork(Net("n", {"first", "second"}), Invocation(), add, options_));
  EXPECT_EQ(Log(), "CHECK first eth0\nCHECK second eth0\n");
  EXPECT_FALSE(CheckNetwork(Net("n", {"first"}, "0.3.1"), Invocation(), add, options_));
}

TEST_F(CniExecTest, AttachAndDetachPod) {
  AttachRequest request;
  request.container_id = "pod-1";
  request.netns = "/proc/self/ns/net";
  request.networks = {{Net("a", {"first"}), ""}, {Net("b", {"first", "second"}), "K=V"}};
  request.port_mappings = {PortMapping{"127.0.0.1", 1, 80, "udp"}};
  auto records = AttachPod(request, options_);
  ASSERT_TRUE(records) << records.error().ToString();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].invocation.ifname, "eth0");
  EXPECT_EQ((*records)[1].invocation.ifname, "eth1");
  EXPECT_EQ((*records)[1].invocation.cni_args, "K=V");
  EXPECT_EQ((*records)[0].ipv4, "10.0.0.2/24");
  EXPECT_EQ((*records)[0].gateway4, "10.0.0.1");
  EXPECT_EQ((*records)[1].ipv4, "10.0.0.3/24");
  // Only the network that can publish ports gets them.
  EXPECT_TRUE((*records)[0].invocation.port_mappings.empty());
  EXPECT_EQ((*records)[1].invocation.port_mappings.size(), 1u);
  ASSERT_TRUE(os::WriteFile(dir_.path() + "/log", ""));

  // Detach from the serialised record, as gc would after a kill -9.
  auto reread = ParseAttachments(AttachmentsToJson(*records));
  ASSERT_TRUE(reread) << reread.error().ToString();
  ASSERT_TRUE(Detach(*reread, options_));
  EXPECT_EQ(Log(), "DEL second eth1\nDEL first eth1\nDEL first eth0\n");
  EXPECT_EQ(Stdin("second", "DEL")["runtimeConfig"]["portMappings"][0]["hostPort"], 1);
  EXPECT_EQ(Stdin("second", "DEL")["prevResult"]["ips"][0]["address"], "10.0.0.3/24");
  // The netns path is not a pin (it is /proc/self/ns/net, an nsfs file) so it is kept.
  EXPECT_NE(os::ReadFile(dir_.path() + "/env.first.DEL").value().find("CNI_NETNS=/proc"),
            std::string::npos);
  ASSERT_TRUE(Detach(*reread, options_));  // twice is fine
}

TEST_F(CniExecTest, FailedAttachRollsEverythingBack) {
  AttachRequest request;
  request.container_id = "pod-1";
  request.netns = "/nonexistent/netns";
  request.networks = {{Net("a", {"first"}), ""}, {Net("b", {"first", "fail", "second"}), ""}};
  auto records = PlanAttachments(request, options_);
  ASSERT_TRUE(records) << records.error().ToString();
  auto st = Attach(&*records, options_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "network b: plugin fail: bad thing (more)");
  EXPECT_EQ(Log(),
            "ADD first eth0\nADD first eth1\nADD fail eth1\n"
            "DEL second eth1\nDEL fail eth1\nDEL first eth1\nDEL first eth0\n");
  EXPECT_FALSE((*records)[0].result);
  EXPECT_EQ((*records)[0].ipv4, "");
  // The gone netns is passed as an empty CNI_NETNS on DEL.
  EXPECT_NE(os::ReadFile(dir_.path() + "/env.first.DEL").value().find("CNI_NETNS=\n"),
            std::string::npos);
}

TEST_F(CniExecTest, CheckpointsAfterEveryPluginAndAbortsOnItsError) {
  AttachRequest request;
  request.container_id = "pod-1";
  request.netns = "/nonexistent/netns";
  request.networks = {{Net("a", {"first", "second"}), ""}, {Net("b", {"second"}), ""}};
  auto records = PlanAttachments(request, options_);
  ASSERT_TRUE(records) << records.error().ToString();
  std::vector<std::string> seen;
  ASSERT_TRUE(Attach(&*records, options_, [&](const std::vector<NetworkAttachment>& now) {
    seen.push_back(now[0].ipv4 + "," + now[1].ipv4);
    return Ok();
  }));
  EXPECT_EQ(seen,
            (std::vector<std::string>{"10.0.0.2/24,", "10.0.0.3/24,", "10.0.0.3/24,10.0.0.3/24"}));

  ASSERT_TRUE(os::WriteFile(dir_.path() + "/log", ""));
  auto again = PlanAttachments(request, options_);
  ASSERT_TRUE(again);
  int calls = 0;
  auto st = Attach(&*again, options_, [&](const std::vector<NetworkAttachment>&) -> Status {
    return ++calls == 2 ? Err(Error::Invalid("disk full")) : Ok();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "disk full");
  EXPECT_EQ(Log(), "ADD first eth0\nADD second eth0\nDEL second eth0\nDEL first eth0\n");
  // The rollback's DEL got the partial result.
  EXPECT_EQ(Stdin("first", "DEL")["prevResult"]["ips"][0]["address"], "10.0.0.3/24");
}

TEST_F(CniExecTest, PlanRejectsBadRequests) {
  AttachRequest request;
  request.container_id = "pod-1";
  request.netns = "/x";
  request.networks = {{Net("a", {"first", "nosuch"}), ""}};
  auto r = PlanAttachments(request, options_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("network a: unknown plugin nosuch"), std::string::npos);

  request.networks = {{Net("a", {"first"}), ""}, {Net("a", {"first"}), ""}};
  r = PlanAttachments(request, options_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("network a is asked for twice"), std::string::npos);

  request.networks = {{Net("a", {"first"}), ""}};
  request.port_mappings = {PortMapping{"", 8080, 80, "tcp"}};
  r = PlanAttachments(request, options_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("portMappings capability"), std::string::npos);
  request.port_mappings.clear();
  request.container_id = "../x";
  r = PlanAttachments(request, options_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("container id: invalid"), std::string::npos);
  request.container_id = "pod-1";
  request.netns = "relative";
  EXPECT_FALSE(PlanAttachments(request, options_));
  request.netns = "/x";
  request.networks[0].cni_args = "A=1\nB=2";
  r = PlanAttachments(request, options_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().ToString().find("network a: CNI args: invalid"), std::string::npos);
  EXPECT_EQ(Log(), "");  // nothing ran
}

}  // namespace
}  // namespace comet::network
