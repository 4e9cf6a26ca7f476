// Root tests of pods on the built-in default network with the real CNI plugins
// (/usr/lib/cni): addresses, pod-to-pod TCP, a published port, and teardown back to exactly the
// state before. Each body runs in a forked child with its own network and mount namespaces
// (TestNetworkEnv), which plays the host: bridge, veths and iptables rules all live there.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "network/netns.h"
#include "network/network_dir.h"
#include "network/pod_network.h"
#include "network/privileged_test_env.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::network {
namespace {

constexpr char kMessage[] = "hello from the pod";

bool PluginsInstalled() {
  return os::Exists("/usr/lib/cni/bridge") && os::Exists("/usr/lib/cni/portmap") &&
         os::Exists("/usr/lib/cni/firewall") && os::Exists("/usr/sbin/iptables-save");
}

// Forks a child that enters netns `netns` (none when empty) and exits with fn()'s value.
pid_t ForkIn(const std::string& netns, const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!netns.empty()) {
      auto fd = OpenNetns(netns);
      if (!fd || !EnterNetns(fd->get())) {
        ::_exit(100);
      }
    }
    ::_exit(fn());
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A server in `netns` on 0.0.0.0:port answering kMessage to `connections` clients.
pid_t Serve(const std::string& netns, uint16_t port, int connections, int ready_fd) {
  return ForkIn(netns, [=] {
    os::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(s.get(), 8) != 0 || ::write(ready_fd, "r", 1) != 1) {
      return 1;
    }
    for (int i = 0; i < connections; ++i) {
      os::UniqueFd c(::accept4(s.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c || ::write(c.get(), kMessage, sizeof kMessage - 1) < 0) {
        return 2;
      }
    }
    return 0;
  });
}

// Connects to ip:port (from the current netns) and checks the answer.
bool Fetch(const std::string& ip, uint16_t port) {
  os::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{5, 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    (void)std::fprintf(
        stderr, "connect %s:%d: %s\n", ip.c_str(), port,
        std::strerror(errno));  // NOLINT(concurrency-mt-unsafe): single-threaded test
    return false;
  }
  char buf[64] = {};
  ssize_t n = ::read(s.get(), buf, sizeof buf - 1);
  return n == static_cast<ssize_t>(sizeof kMessage - 1) && std::string(buf) == kMessage;
}

std::string Address(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}

struct Fixture {
  TestNetworkEnv env;
  CniRuntimeOptions options;
  NetworkConfig network =
      DefaultNetwork({.bridge = "cometT0", .subnet = "10.99.77.0/24", .ipv6_subnet = ""});

  AttachRequest Request(const std::string& pod, std::vector<PortMapping> ports = {}) {
    AttachRequest request;
    request.container_id = pod;
    request.netns = env.netns_dir() + "/" + pod;
    request.networks = {{network, ""}};
    request.port_mappings = std::move(ports);
    request.materialize.ipam_data_dir = env.ipam_dir();
    return request;
  }
};

// One pod attached and detached: the bridge and the plugins' shared chains exist from then on
// (plugins never delete them: other pods and runtimes share them), so "before" is taken after.
int WarmUp(Fixture& f) {
  AttachRequest request = f.Request("warmup", {PortMapping{"", 18999, 80, "tcp"}});
  CHILD_OK(CreatePinnedNetns(request.netns));
  auto records = AttachPod(request, f.options);
  CHILD_OK(records);
  CHILD_OK(Detach(*records, f.options));
  CHILD_OK(RemovePinnedNetns(request.netns));
  return 0;
}

int TwoPodsBody() {
  auto env = TestNetworkEnv::Create();
  CHILD_OK(env);
  Fixture f;
  f.env = *env;
  CHILD_CHECK(WarmUp(f) == 0);
  auto before = NetworkStateSnapshot(f.env);
  CHILD_OK(before);

  AttachRequest a = f.Request("pod-a", {PortMapping{"", 18080, 80, "tcp"}});
  AttachRequest b = f.Request("pod-b");
  auto held = ReserveHostPorts(a.port_mappings);
  CHILD_OK(held);
  CHILD_OK(CreatePinnedNetns(a.netns));
  CHILD_OK(CreatePinnedNetns(b.netns));
  auto ra = AttachPod(a, f.options);
  CHILD_OK(ra);
  auto rb = AttachPod(b, f.options);
  CHILD_OK(rb);
  std::string ip_a = Address((*ra)[0].ipv4);
  std::string ip_b = Address((*rb)[0].ipv4);
  (void)std::fprintf(stderr, "pod-a %s gw %s, pod-b %s\n", (*ra)[0].ipv4.c_str(),
                     (*ra)[0].gateway4.c_str(), (*rb)[0].ipv4.c_str());
  CHILD_CHECK(StartsWith(ip_a, "10.99.77.") && StartsWith(ip_b, "10.99.77.") && ip_a != ip_b);
  CHILD_CHECK((*ra)[0].gateway4 == "10.99.77.1");
  // Pod b only: Debian's portmap 1.1.1 fails CHECK of an IPv4-only published port, looking for
  // an ip6tables chain it never made (containernetworking/plugins#819).
  CHILD_OK(CheckAttachments(*rb, f.options));

  // Pod b -> pod a by address, then the host's loopback and the bridge address -> pod a's port
  // 80 through the published port 18080 (portmap's DNAT; with snat it enables route_localnet
  // on the bridge, so 127.0.0.1 works).
  int ready[2];
  CHILD_CHECK(::pipe2(ready, O_CLOEXEC) == 0);
  pid_t server = Serve(a.netns, 80, 3, ready[1]);
  char c = 0;
  CHILD_CHECK(::read(ready[0], &c, 1) == 1);
  pid_t client = ForkIn(b.netns, [&] { return Fetch(ip_a, 80) ? 0 : 1; });
  CHILD_CHECK(Wait(client) == 0);
  CHILD_CHECK(Fetch("127.0.0.1", 18080));
  CHILD_CHECK(Fetch("10.99.77.1", 18080));
  CHILD_CHECK(Wait(server) == 0);

  // A second pod cannot take the published port while pod a holds it.
  auto taken = ReserveHostPorts({PortMapping{"", 18080, 8080, "tcp"}});
  CHILD_CHECK(!taken);
  CHILD_CHECK(taken.error().ToString() == "port 18080/tcp on 0.0.0.0 is already in use");

  CHILD_OK(Detach(*ra, f.options));
  CHILD_OK(Detach(*rb, f.options));
  CHILD_OK(Detach(*ra, f.options));  // DEL twice is fine
  CHILD_OK(RemovePinnedNetns(a.netns));
  CHILD_OK(RemovePinnedNetns(b.netns));
  CHILD_OK(Detach(*rb, f.options));  // and with the netns gone
  held->clear();
  auto after = NetworkStateSnapshot(f.env);
  CHILD_OK(after);
  if (*after != *before) {
    (void)std::fprintf(stderr, "before:\n%s\nafter:\n%s\n", before->c_str(), after->c_str());
    return 1;
  }
  return 0;
}

TEST(PodNetworkPrivileged, TwoPodsTalkAndPublishAPortThenLeaveNothing) {
  if (!testing::IsRoot() || !PluginsInstalled()) {
    GTEST_SKIP() << "needs root and containernetworking-plugins";
  }
  auto outcome = testing::RunInChild(TwoPodsBody);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// After a kill -9 right after the last plugin's ADD, gc may have only the record checkpointed
// after the first plugin (bridge): DEL with that result must still release everything.
int FirstCheckpointBody() {
  auto env = TestNetworkEnv::Create();
  CHILD_OK(env);
  Fixture f;
  f.env = *env;
  CHILD_CHECK(WarmUp(f) == 0);
  auto before = NetworkStateSnapshot(f.env);
  CHILD_OK(before);
  AttachRequest request = f.Request("pod-k", {PortMapping{"", 18082, 80, "tcp"}});
  CHILD_OK(CreatePinnedNetns(request.netns));
  auto planned = PlanAttachments(request, f.options);
  CHILD_OK(planned);
  std::vector<std::string> written;
  std::vector<NetworkAttachment> records = *planned;
  CHILD_OK(Attach(&records, f.options, [&](const std::vector<NetworkAttachment>& now) {
    written.push_back(AttachmentsToJson(now));
    return Ok();
  }));
  CHILD_CHECK(written.size() == 3);  // after bridge, portmap and firewall
  auto reread = ParseAttachments(written[0]);
  CHILD_OK(reread);
  CHILD_OK(Detach(*reread, f.options));
  CHILD_OK(RemovePinnedNetns(request.netns));
  auto after = NetworkStateSnapshot(f.env);
  CHILD_OK(after);
  if (*after != *before) {
    (void)std::fprintf(stderr, "before:\n%s\nafter:\n%s\n", before->c_str(), after->c_str());
    return 1;
  }
  return 0;
}

TEST(PodNetworkPrivileged, DetachFromFirstCheckpointLeavesNothing) {
  if (!testing::IsRoot() || !PluginsInstalled()) {
    GTEST_SKIP() << "needs root and containernetworking-plugins";
  }
  auto outcome = testing::RunInChild(FirstCheckpointBody);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

int DualStackBody() {
  auto env = TestNetworkEnv::Create();
  CHILD_OK(env);
  Fixture f;
  f.env = *env;
  f.network = DefaultNetwork(
      {.bridge = "cometT6", .subnet = "10.99.78.0/24", .ipv6_subnet = "fd99:78::/64"});
  CHILD_CHECK(WarmUp(f) == 0);
  auto before = NetworkStateSnapshot(f.env);
  CHILD_OK(before);
  AttachRequest request = f.Request("pod-6");
  CHILD_OK(CreatePinnedNetns(request.netns));
  auto records = AttachPod(request, f.options);
  CHILD_OK(records);
  (void)std::fprintf(stderr, "pod-6 %s %s gw %s\n", (*records)[0].ipv4.c_str(),
                     (*records)[0].ipv6.c_str(), (*records)[0].gateway6.c_str());
  CHILD_CHECK(StartsWith((*records)[0].ipv4, "10.99.78."));
  CHILD_CHECK(StartsWith((*records)[0].ipv6, "fd99:78::"));
  CHILD_CHECK((*records)[0].gateway6 == "fd99:78::1");
  CHILD_OK(Detach(*records, f.options));
  CHILD_OK(RemovePinnedNetns(request.netns));
  auto after = NetworkStateSnapshot(f.env);
  CHILD_OK(after);
  if (*after != *before) {
    (void)std::fprintf(stderr, "before:\n%s\nafter:\n%s\n", before->c_str(), after->c_str());
    return 1;
  }
  return 0;
}

TEST(PodNetworkPrivileged, DualStackGetsBothAddresses) {
  if (!testing::IsRoot() || !PluginsInstalled()) {
    GTEST_SKIP() << "needs root and containernetworking-plugins";
  }
  auto outcome = testing::RunInChild(DualStackBody);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

int FailureBody() {
  auto env = TestNetworkEnv::Create();
  CHILD_OK(env);
  Fixture f;
  f.env = *env;
  // A plugin that fails on ADD, placed after bridge and portmap had done their part.
  std::string fake_dir = f.env.scratch_dir() + "/cni";
  CHILD_OK(os::MkdirAll(fake_dir));
  CHILD_OK(os::WriteFile(fake_dir + "/failer",
                         "#!/bin/sh\ncat >/dev/null\nif [ \"$CNI_COMMAND\" = ADD ]; then "
                         "echo '{\"code\":100,\"msg\":\"refused\"}'; exit 1; fi\n",
                         0755));
  f.options.cni_path = {fake_dir, "/usr/lib/cni"};
  CHILD_CHECK(WarmUp(f) == 0);
  auto before = NetworkStateSnapshot(f.env);
  CHILD_OK(before);

  NetworkConfig broken = f.network;
  PluginConfig failer;
  failer.type = "failer";
  failer.object = {{"type", "failer"}};
  broken.plugins.insert(broken.plugins.begin() + 2, failer);
  AttachRequest request = f.Request("pod-f", {PortMapping{"", 18081, 80, "tcp"}});
  request.networks = {{broken, ""}};
  CHILD_OK(CreatePinnedNetns(request.netns));
  auto records = AttachPod(request, f.options);
  CHILD_CHECK(!records);
  CHILD_CHECK(records.error().ToString() == "network default: plugin failer: refused");

  // An unknown plugin type is refused before anything runs.
  NetworkConfig unknown = f.network;
  unknown.plugins[1].type = "no-such-plugin";
  request.networks = {{unknown, ""}};
  records = AttachPod(request, f.options);
  CHILD_CHECK(!records);
  CHILD_CHECK(records.error().ToString().find("network default: unknown plugin no-such-plugin") !=
              std::string::npos);

  CHILD_OK(RemovePinnedNetns(request.netns));
  auto after = NetworkStateSnapshot(f.env);
  CHILD_OK(after);
  if (*after != *before) {
    (void)std::fprintf(stderr, "before:\n%s\nafter:\n%s\n", before->c_str(), after->c_str());
    return 1;
  }
  return 0;
}

TEST(PodNetworkPrivileged, FailedAttachLeavesNothingBehind) {
  if (!testing::IsRoot() || !PluginsInstalled()) {
    GTEST_SKIP() << "needs root and containernetworking-plugins";
  }
  auto outcome = testing::RunInChild(FailureBody);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::network
