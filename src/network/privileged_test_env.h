// TestNetworkEnv: a private network and mount namespace for a root test body (call Create in
// the RunInChild child): / made private, a tmpfs on /tmp for netns pins, IPAM leases and fake
// plugins, lo up. Everything a test does to links, addresses and iptables stays in there.
// Plus snapshots of that namespace's network state. Not thread-safe.
#ifndef COMET_NETWORK_PRIVILEGED_TEST_ENV_H_
#define COMET_NETWORK_PRIVILEGED_TEST_ENV_H_

#include <string>

#include "base/result.h"

namespace comet::network {

class TestNetworkEnv {
 public:
  [[nodiscard]] static Result<TestNetworkEnv> Create();

  // Instance accessors on purpose: callers ask the env they created for its directories.
  // NOLINTBEGIN(readability-convert-member-functions-to-static)
  [[nodiscard]] std::string netns_dir() const { return "/tmp/comet-net/netns"; }
  [[nodiscard]] std::string ipam_dir() const { return "/tmp/comet-net/ipam"; }
  [[nodiscard]] std::string scratch_dir() const { return "/tmp/comet-net/scratch"; }
  // NOLINTEND(readability-convert-member-functions-to-static)
};

// Links, addresses, iptables/ip6tables rules (counters dropped), IPAM lease files under
// `ipam_dir` and pins under `netns_dir`, one per line, for before/after comparisons.
[[nodiscard]] Result<std::string> NetworkStateSnapshot(const TestNetworkEnv& env);

}  // namespace comet::network

#endif  // COMET_NETWORK_PRIVILEGED_TEST_ENV_H_
