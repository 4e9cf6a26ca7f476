// NetPodTest: the pod e2e fixture for contained networking (issue 6). Each test runs in a network
// and mount namespace of its own (made in SetUp, left in TearDown): the bridge, veths, iptables
// rules, published ports and the pods' traffic stay there, so the machine's real network is
// never touched and tests running at the same time (ctest -j) do not meet. Its mount namespace
// is private, so pins under /run/comet/netns and files bind-mounted over /etc/resolv.conf or
// /etc/hosts are seen by this test's comet only. Every comet command gets
// --local-config=<tmp>/config, whose net.d holds a "default" network with leases in the test's
// temp dir (remove it to get the built-in default). TearDown adds checks that no pin of the
// test's pods is left. Not thread-safe: one test at a time per process; the process must be
// single-threaded (setns(2) into a mount namespace requires it).
#ifndef COMET_TESTS_E2E_POD_NET_FIXTURE_H_
#define COMET_TESTS_E2E_POD_NET_FIXTURE_H_

#include <chrono>
#include <string>
#include <vector>

#include "e2e/pod/pod_fixture.h"

namespace comet::e2e::pod {

// GETs `url` with the host's busybox wget (15 s timeout; its -T crashes Debian's busybox): the body
// on stdout.
ProcResult Fetch(const std::string& url);
// Fetch, again every 100 ms until it succeeds or `timeout` passes: the last try.
ProcResult FetchWhenUp(const std::string& url, std::chrono::milliseconds timeout = 15s);

class NetPodTest : public PodTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // comet --local-config=<config_dir()> ARGS (with the marker on run); expects exit 0 for
  // NetOk, returns stdout.
  ProcResult Net(const std::vector<std::string>& args, ProcOptions options = {});
  std::string NetOk(const std::vector<std::string>& args, ProcOptions options = {});
  // `run -d ARGS` through Net: the uuid ("" on failure).
  std::string NetRunDetached(const std::vector<std::string>& args);

  [[nodiscard]] std::string config_dir() const { return tmp() + "/config"; }
  [[nodiscard]] std::string net_d() const { return config_dir() + "/net.d"; }
  // host-local's dataDir of the networks BridgeConflist makes.
  [[nodiscard]] std::string ipam_dir() const { return tmp() + "/ipam"; }
  // The bridge and subnet of the "default" network SetUp writes (net.d/50-default.conflist).
  static constexpr const char* kBridge = "cometnet0";
  static constexpr const char* kSubnetPrefix = "10.211.77.";  // 10.211.77.0/24
  [[nodiscard]] std::string default_conflist() const { return net_d() + "/50-default.conflist"; }

  // A bridge network (CNI 1.0.0): bridge + host-local (leases in ipam_dir()), then portmap and
  // firewall when `publish`.
  [[nodiscard]] std::string BridgeConflist(const std::string& name, const std::string& bridge,
                                           const std::string& subnet, bool publish = true) const;
  void WriteNetConfig(const std::string& file, const std::string& text) const;

  // The IPv4 address (no prefix) `status` shows for network `network` of the pod, "" when none.
  std::string PodIp4(const std::string& uuid, const std::string& network = "default");

  // This namespace's network state, one item per line, for before/after comparisons: links
  // (names), addresses, iptables and ip6tables rules (counters dropped), listening and bound
  // sockets (published ports are reserved by sockets), lease files under ipam_dir() and
  // `extra_lease_dirs`, and the pins of this test.
  std::string NetState(const std::vector<std::string>& extra_lease_dirs = {}) const;
  // Pin mounts in this mount namespace under /run/comet/netns, and pin files of this test's pods.
  static std::vector<std::string> OwnPins();

  // A shell script running busybox httpd on port 80 that serves "hello-<tag>\n" and logs each
  // client (-vv, to the app's log), in the background of a shell that ends on SIGTERM.
  static std::string WebServer(const std::string& tag);

  // Bind-mounts a file holding `content` over `target` (in this test's mount namespace only);
  // TearDown unmounts it.
  void BindFileOver(const std::string& target, const std::string& content);
  // Mounts TearDown must remove (before the fixture's check for mounts under the temp dir).
  void UnmountAtEnd(const std::string& path) { unmount_at_end_.push_back(path); }

  // True when `ip` (dotted IPv4) is in `prefix` ("10.211.77.").
  static bool InSubnet(const std::string& ip, const std::string& prefix);

 private:
  int original_net_ = -1;
  int original_mnt_ = -1;
  bool base_set_up_ = false;  // PodTest::SetUp ran (and PodTest::TearDown must)
  std::string cwd_;
  std::vector<std::string> unmount_at_end_;
};

}  // namespace comet::e2e::pod

#endif  // COMET_TESTS_E2E_POD_NET_FIXTURE_H_
