// Contained pod networking, issue 6's "Show it" (rootful): two pods on the default network reach
// each other by IP (status, list and list --format=json show the network and address);
// published ports answer on the (test namespace's) loopback and a port taken twice is a clear
// error leaving nothing; /etc/resolv.conf, /etc/hosts and the hostname are what was asked for.
// Each test runs in network and mount namespaces of its own (net_fixture.h).
#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "e2e/pod/net_fixture.h"

namespace comet::e2e::pod {
namespace {

namespace fs = std::filesystem;

// The lines of `text` that mention `needle`.
std::string LinesWith(const std::string& text, const std::string& needle) {
  std::string out;
  for (const std::string& line : Lines(text)) {
    if (Contains(line, needle)) {
      out += line + "\n";
    }
  }
  return out;
}

using PodNetwork = NetPodTest;

TEST_F(PodNetwork, TwoPodsOnTheDefaultNetworkReachEachOtherByIp) {
  // The built-in default network (bridge comet0, 172.16.28.0/24): no file defines "default".
  ASSERT_TRUE(fs::remove(default_conflist()));
  const std::string a =
      NetRunDetached({"--net=default", kImage, "--", "/bin/sh", "-c", WebServer("a")});
  const std::string b = NetRunDetached({"--net=default", kImage, "--", "/bin/sh", "-c", kSleeper});
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  const std::string ip_a = PodIp4(a);
  const std::string ip_b = PodIp4(b);
  EXPECT_TRUE(InSubnet(ip_a, "172.16.28.")) << Ok({"status", a});
  EXPECT_TRUE(InSubnet(ip_b, "172.16.28.")) << Ok({"status", b});
  ASSERT_NE(ip_a, ip_b);
  ASSERT_FALSE(ip_a.empty());

  // B reaches A's web server at A's address, and A sees B's address (no NAT on the bridge).
  ProcResult got;
  WaitUntil(
      [&] {
        got = Comet({"enter", b, "/bin/wget", "-q", "-O", "-", "http://" + ip_a + "/"},
                    {.timeout = 10s});
        return got.exit_code == 0;
      },
      15s);
  EXPECT_EQ(got.out, "hello-a\n") << got.Describe();
  EXPECT_TRUE(WaitUntil([&] { return Contains(ReadFileOrEmpty(LogFile(a, kApp)), ip_b); }, 5s))
      << "A's server log does not name B's address " << ip_b << ":\n"
      << ReadFileOrEmpty(LogFile(a, kApp));
  // And the other way: A reaches a listener in B.
  Background listener(
      {CometBinary(), "--dir=" + data(), "enter", b, "/bin/sh", "-c", "echo from-b | nc -l -p 81"},
      {"COMET_E2E_MARK=" + marker()}, tmp() + "/listener.out");
  WaitUntil(
      [&] {
        got = Comet({"enter", a, "/bin/nc", "-w", "3", ip_b, "81"}, {.timeout = 10s});
        return Contains(got.out, "from-b");
      },
      15s);
  EXPECT_TRUE(Contains(got.out, "from-b")) << got.Describe();

  // status, list and list --format=json name the network and the address.
  EXPECT_EQ(Status(a)["networks"], "default:ip4=" + ip_a);
  EXPECT_EQ(Status(b)["networks"], "default:ip4=" + ip_b);
  const std::string table = Ok({"list", "--full"});
  EXPECT_TRUE(Contains(table, "NETWORKS")) << table;
  EXPECT_TRUE(Contains(LinesWith(table, a), "default:ip4=" + ip_a)) << table;
  EXPECT_TRUE(Contains(LinesWith(table, b), "default:ip4=" + ip_b)) << table;
  const auto json = nlohmann::json::parse(Ok({"list", "--format=json"}), nullptr, false);
  ASSERT_TRUE(json.is_array());
  int seen = 0;
  for (const auto& pod : json) {
    const std::string ip = pod["uuid"] == a ? ip_a : ip_b;
    EXPECT_EQ(pod["networks"], nlohmann::json::parse(fmt::format(
                                   R"([{{"name":"default","ip4":"{}","ip6":""}}])", ip)))
        << pod.dump();
    ++seen;
  }
  EXPECT_EQ(seen, 2);

  // The leases (host-local's files in /run/comet/networks/default) name the pods; stopping the
  // pods gives them back, with their links and rules.
  const std::string leases = "/run/comet/networks/default/";
  EXPECT_TRUE(Contains(ReadFileOrEmpty(leases + ip_a), a));
  EXPECT_TRUE(Contains(ReadFileOrEmpty(leases + ip_b), b));
  EXPECT_TRUE(Contains(Exec({"/usr/sbin/iptables-save"}).out, a));
  EXPECT_EQ(Comet({"stop", a}, {.timeout = 30s}).exit_code, 0);
  EXPECT_EQ(Comet({"stop", b}, {.timeout = 30s}).exit_code, 0);
  for (const std::string& ip : {ip_a, ip_b}) {
    const std::string lease = ReadFileOrEmpty(leases + ip);
    EXPECT_FALSE(Contains(lease, a) || Contains(lease, b)) << "lease " << ip << " kept";
  }
  const std::string rules = Exec({"/usr/sbin/iptables-save"}).out;
  EXPECT_FALSE(Contains(rules, a) || Contains(rules, b)) << rules;
  const std::string links = Exec({"/usr/sbin/ip", "-o", "link", "show"}).out;
  EXPECT_FALSE(Contains(links, "veth")) << links;
  EXPECT_TRUE(Contains(links, "comet0")) << "the bridge stays: " << links;
  EXPECT_TRUE(OwnPins().empty());
}

TEST_F(PodNetwork, PublishedPortsAnswerOnLoopbackAndATakenPortFailsCleanly) {
  const std::string a =
      NetRunDetached({"--net=default", "--port=127.0.0.1:18080:80", "--port=18081:80", kImage, "--",
                      "/bin/sh", "-c", WebServer("a")});
  ASSERT_FALSE(a.empty());
  const std::string gateway = std::string(kSubnetPrefix) + "1";
  ProcResult r = FetchWhenUp("http://127.0.0.1:18080/");
  EXPECT_EQ(r.out, "hello-a\n") << r.Describe();
  r = Fetch("http://127.0.0.1:18081/");
  EXPECT_EQ(r.out, "hello-a\n") << "a port published on every address: " << r.Describe();
  r = Fetch("http://" + gateway + ":18081/");
  EXPECT_EQ(r.out, "hello-a\n") << "the bridge's address is one of every address: " << r.Describe();
  r = Fetch("http://" + gateway + ":18080/");
  EXPECT_NE(r.exit_code, 0) << "18080 is published on 127.0.0.1 only: " << r.Describe();

  // Another pod wanting a published host port: a clear error, nothing made.
  const std::string before = NetState();
  const std::vector<std::string> dirs = PodDirs();
  for (const char* port : {"--port=127.0.0.1:18080:80", "--port=18080:8080", "--port=18081:80",
                           "--port=127.0.0.1:18081:9090"}) {
    ProcResult taken = Net({"run", "--net=default", port, kImage, "--", "/bin/true"});
    EXPECT_EQ(taken.exit_code, 254) << port << ": " << taken.Describe();
    const std::string number = std::string(port).substr(std::string(port).find("1808"), 5);
    EXPECT_TRUE(Contains(taken.err, number) && Contains(taken.err, "in use")) << taken.err;
    EXPECT_EQ(NetState(), before) << port;
    EXPECT_EQ(PodDirs(), dirs) << port;
  }
  r = Fetch("http://127.0.0.1:18080/");
  EXPECT_EQ(r.out, "hello-a\n") << "the first pod still has its port: " << r.Describe();

  // Stopped, the pod gives its ports back: nothing answers, another pod may have them.
  EXPECT_EQ(Comet({"stop", a}, {.timeout = 30s}).exit_code, 0);
  EXPECT_NE(Fetch("http://127.0.0.1:18080/").exit_code, 0);
  EXPECT_NE(Fetch("http://127.0.0.1:18081/").exit_code, 0);
  const std::string after = NetState();
  EXPECT_FALSE(Contains(after, ":46A0") || Contains(after, ":46A1")) << "ports 18080/1 held:\n"
                                                                     << after;
  EXPECT_FALSE(Contains(after, "file " + ipam_dir() + "/default/10.")) << after;
  EXPECT_FALSE(Contains(after, a)) << after;
  ProcResult again = Net({"run", "--rm", "--net=default", "--port=127.0.0.1:18080:80",
                          "--port=18081:80", kImage, "--", "/bin/true"});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
}

TEST_F(PodNetwork, DnsHostsAndHostnameFilesAreWhatWasAskedFor) {
  const std::string host_resolv =
      "# the host's\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\n"
      "search lan.test\noptions edns0\n";
  const std::string host_hosts = "127.0.0.1\tlocalhost\n192.0.2.100\tfake-host-entry\n";
  BindFileOver("/etc/resolv.conf", host_resolv);
  BindFileOver("/etc/hosts", host_hosts);
  ASSERT_FALSE(HasFatalFailure());
  const std::string dump =
      "cat /etc/resolv.conf; echo @@; cat /etc/hosts; echo @@; hostname; echo @@; "
      "cat /etc/hostname; echo @@; ip -o -4 addr show dev eth0 2>/dev/null | "
      "sed 's/.* inet \\([0-9.]*\\).*/\\1/'";
  auto run = [&](const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {kImage, "--", "/bin/sh", "-c", dump});
    ProcResult r = Net(args);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::vector<std::string> parts;
    size_t at = 0;
    for (size_t next = 0; (next = r.out.find("@@\n", at)) != std::string::npos; at = next + 3) {
      parts.push_back(r.out.substr(at, next - at));
    }
    parts.push_back(r.out.substr(at));
    parts.resize(5);
    return parts;
  };

  // Default network: the host's resolv.conf without loopback nameservers; hosts names the pod's
  // address, then the extra entries; the hostname asked for.
  auto files = run({"--net=default", "--hostname=web.test", "--hosts-entry=192.0.2.10=db.test",
                    "--hosts-entry=192.0.2.11=a.test,b.test"});
  EXPECT_EQ(files[0], "# the host's\nnameserver 192.0.2.1\nsearch lan.test\noptions edns0\n");
  const std::string ip = Trim(files[4]);
  EXPECT_TRUE(InSubnet(ip, kSubnetPrefix)) << files[4];
  const std::vector<std::string> hosts = Lines(files[1]);
  const std::vector<std::string> expected_tail = {ip + "\tweb.test", "192.0.2.10\tdb.test",
                                                  "192.0.2.11\ta.test b.test"};
  ASSERT_GE(hosts.size(), 4U) << files[1];
  EXPECT_EQ(std::vector<std::string>(hosts.end() - 3, hosts.end()), expected_tail) << files[1];
  EXPECT_TRUE(Contains(files[1], "127.0.0.1\tlocalhost")) << files[1];
  EXPECT_FALSE(Contains(files[1], "fake-host-entry")) << "not the host's: " << files[1];
  EXPECT_EQ(files[2], "web.test\n");
  EXPECT_EQ(files[3], "web.test\n");

  // --dns, --dns-search, --dns-opt replace the host's resolv.conf.
  files =
      run({"--net=default", "--dns=192.0.2.53", "--dns=2001:db8::53", "--dns-search=example.test",
           "--dns-search=corp.test", "--dns-opt=ndots:3", "--dns-opt=timeout:1"});
  EXPECT_EQ(files[0],
            "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.test corp.test\n"
            "options ndots:3 timeout:1\n");
  EXPECT_TRUE(Contains(files[2], "comet-")) << "default hostname comet-<uuid>: " << files[2];

  // --net=host: the host's files as they are (an extra entry appended); no eth0 of its own.
  files = run({"--net=host", "--hostname=hosted.test", "--hosts-entry=192.0.2.12=extra.test"});
  EXPECT_EQ(files[0], host_resolv);
  EXPECT_EQ(files[1].substr(0, host_hosts.size()), host_hosts) << files[1];
  EXPECT_TRUE(files[1].ends_with("\n192.0.2.12\textra.test\n")) << files[1];
  EXPECT_TRUE(Contains(files[1], "\thosted.test\n")) << "the hostname resolves: " << files[1];
  EXPECT_EQ(files[2], "hosted.test\n");
  EXPECT_EQ(Trim(files[4]), "");
}

}  // namespace
}  // namespace comet::e2e::pod
