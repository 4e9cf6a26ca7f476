// Pod network modes and bad network configs (issue 6, rootful): --net=none has a loopback only,
// --net=ns:PATH joins a namespace the test made (and leaves it as it was), a bad ns path and bad
// configs in --local-config/net.d (unknown plugin, overlapping subnets, malformed JSON, a name
// defined twice, a plugin failing its ADD) are clear errors that leave nothing behind. Each test
// runs in network and mount namespaces of its own (net_fixture.h).
#include <sys/mount.h>

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "e2e/pod/net_fixture.h"

namespace comet::e2e::pod {
namespace {

namespace fs = std::filesystem;

using PodNetworkModes = NetPodTest;

// `ip -o link` and `ip -o -4 addr` as the pod sees them.
constexpr const char* kShowNet = "ip -o link; echo @@; ip -o addr";

TEST_F(PodNetworkModes, NoneHasOnlyLoopback) {
  const std::string before = NetState();
  ProcResult r = Net({"run", "--rm", "--net=none", kImage, "--", "/bin/sh", "-c", kShowNet});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::string links = r.out.substr(0, r.out.find("@@"));
  ASSERT_EQ(Lines(links).size(), 1U) << r.out;
  EXPECT_TRUE(Contains(links, ": lo:")) << r.out;
  EXPECT_TRUE(Contains(r.out, "inet 127.0.0.1/8")) << r.out;
  EXPECT_EQ(NetState(), before) << "--net=none touched the host's network";

  const std::string uuid = NetRunDetached({"--net=none", kImage, "--", "/bin/sh", "-c", kSleeper});
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(Status(uuid).count("networks"), 0U) << Ok({"status", uuid});
  const auto json = nlohmann::json::parse(Ok({"list", "--format=json"}), nullptr, false);
  ASSERT_TRUE(json.is_array() && json.size() == 1) << json.dump();
  EXPECT_EQ(json[0]["networks"], nlohmann::json::array());
  EXPECT_TRUE(OwnPins().empty());
}

TEST_F(PodNetworkModes, JoinsAnExistingNamespaceAndLeavesItAsItWas) {
  // A namespace of the test's own, pinned in its temp dir, with a veth pair to recognise it.
  const std::string ns = tmp() + "/netns-x";
  WriteFileOrDie(ns, "");
  ASSERT_EQ(Exec({"/usr/bin/unshare", "--net=" + ns, "/bin/true"}).exit_code, 0);
  UnmountAtEnd(ns);
  for (const char* cmd : {"ip link set lo up", "ip link add probe0 type veth peer name probe1",
                          "ip addr add 192.0.2.77/32 dev probe0", "ip link set probe0 up"}) {
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--net=" + ns, "/bin/sh", "-c", cmd};
    ASSERT_EQ(Exec(argv).exit_code, 0) << cmd;
  }
  auto ns_links = [&] {
    return Exec({"/usr/bin/nsenter", "--net=" + ns, "/usr/sbin/ip", "-o", "addr"}).out;
  };
  const std::string ns_before = ns_links();
  const std::string before = NetState();

  ProcResult r = Net({"run", "--rm", "--net=ns:" + ns, kImage, "--", "/bin/sh", "-c", kShowNet});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "probe0")) << r.out;
  EXPECT_TRUE(Contains(r.out, "inet 192.0.2.77/32")) << r.out;
  EXPECT_FALSE(Contains(r.out, "eth0")) << r.out;

  // Detached too; afterwards the namespace is still there, unchanged, and still pinned.
  const std::string uuid =
      NetRunDetached({"--net=ns:" + ns, kImage, "--", "/bin/sh", "-c", kSleeper});
  ASSERT_FALSE(uuid.empty());
  ProcResult enter = Comet({"enter", uuid, "/bin/ip", "-o", "addr"});
  EXPECT_TRUE(Contains(enter.out, "192.0.2.77")) << enter.Describe();
  EXPECT_EQ(Comet({"stop", uuid}, {.timeout = 30s}).exit_code, 0);
  EXPECT_EQ(ns_links(), ns_before);
  EXPECT_EQ(MountsUnder(ns).size(), 1U) << "the test's pin of " << ns;
  EXPECT_EQ(NetState(), before) << "joining a namespace touched the host's network";
}

TEST_F(PodNetworkModes, BadNamespacePathIsAClearErrorLeavingNothing) {
  const std::string regular = tmp() + "/not-a-netns";
  WriteFileOrDie(regular, "x");
  const std::string before = NetState();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ns:/nonexistent/netns", "/nonexistent/netns"},
      {"ns:" + regular, "not a network namespace"},
      {"ns:/proc/self/ns/mnt", "not a network namespace"},
      {"ns:relative/path", "absolute"},
      {"ns:", "ns:"}};
  for (const auto& [net, message] : cases) {
    ProcResult r = Net({"run", "--net=" + net, kImage, "--", "/bin/sh", "-c", "echo ran"});
    EXPECT_EQ(r.exit_code, 254) << net << ": " << r.Describe();
    EXPECT_TRUE(Contains(r.err, message)) << net << ": " << r.err;
    EXPECT_FALSE(Contains(r.out, "ran")) << net << ": the app ran: " << r.out;
    EXPECT_TRUE(PodDirs().empty()) << net << ": pod dirs left: " << PodDirs().size();
    EXPECT_TRUE(MarkedProcesses().empty()) << net;
    EXPECT_EQ(NetState(), before) << net;
  }
}

class PodNetworkConfigs : public NetPodTest {
 protected:
  // Runs `comet run --net=NET` with net.d holding only the default network and `files`; expects
  // exit 254, every string of `messages` in stderr, and nothing left behind.
  void ExpectRejected(const std::map<std::string, std::string>& files, const std::string& net,
                      const std::vector<std::string>& messages) {
    for (const auto& entry : fs::directory_iterator(net_d())) {
      if (entry.path() != default_conflist()) {
        fs::remove(entry.path());
      }
    }
    for (const auto& [name, text] : files) {
      WriteNetConfig(name, text);
    }
    const std::string before = NetState();
    ProcResult r =
        Net({"run", "--net=" + net, "--port=18085:80", kImage, "--", "/bin/sh", "-c", "echo ran"},
            {.timeout = 60s});
    EXPECT_EQ(r.exit_code, 254) << net << ": " << r.Describe();
    for (const std::string& message : messages) {
      EXPECT_TRUE(Contains(r.err, message)) << "expected \"" << message << "\": " << r.err;
    }
    EXPECT_FALSE(Contains(r.out, "ran")) << "the app ran: " << r.out;
    EXPECT_TRUE(PodDirs().empty()) << "pod dirs left: " << PodDirs().size();
    EXPECT_TRUE(MarkedProcesses().empty());
    EXPECT_EQ(NetState(), before) << "links, addresses, rules, sockets, leases or pins left";
  }
};

TEST_F(PodNetworkConfigs, BadConfigsAreClearErrorsLeavingNothing) {
  // A warm-up pod: the bridge and the plugins' shared chains exist from then on, by design.
  ProcResult warm =
      Net({"run", "--rm", "--net=default", "--port=18085:80", kImage, "--", "/bin/true"});
  ASSERT_EQ(warm.exit_code, 0) << warm.Describe();

  nlohmann::json unknown =
      nlohmann::json::parse(BridgeConflist("odd", "cometodd0", "10.211.78.0/24"));
  unknown["plugins"].push_back({{"type", "no-such-plugin-x"}});
  ExpectRejected({{"10-odd.conflist", unknown.dump()}}, "odd",
                 {"odd", "no-such-plugin-x", "unknown plugin"});

  ExpectRejected({{"10-a.conflist", BridgeConflist("a", "cometa0", "10.211.80.0/24")},
                  {"20-b.conflist", BridgeConflist("b", "cometb0", "10.211.80.128/25")}},
                 "a,b", {"overlaps", "10.211.80.0/24", "10.211.80.128/25"});

  ExpectRejected({{"30-broken.conf", R"({"cniVersion": "1.0.0", "name": "broken", )"}}, "default",
                 {net_d() + "/30-broken.conf"});

  ExpectRejected({{"40-twin.conf", BridgeConflist("twin", "comett0", "10.211.81.0/24")},
                  {"41-twin.conflist", BridgeConflist("twin", "comett1", "10.211.82.0/24")}},
                 "twin", {"twin", "defined twice", "40-twin.conf", "41-twin.conflist"});

  ExpectRejected({}, "no-such-network", {"no-such-network"});

  // Valid, but a plugin fails its ADD after bridge and host-local did theirs (a sysctl that does
  // not exist): the supervisor rolls back — no veth, lease or masquerade rule stays.
  nlohmann::json tuned =
      nlohmann::json::parse(BridgeConflist("tuned", kBridge, std::string(kSubnetPrefix) + "0/24"));
  tuned["plugins"].push_back({{"type", "tuning"}, {"sysctl", {{"net.no.such.sysctl", "1"}}}});
  ExpectRejected({{"50-tuned.conflist", tuned.dump()}}, "tuned", {"tuned", "tuning"});
}

}  // namespace
}  // namespace comet::e2e::pod
