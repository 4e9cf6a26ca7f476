// A rootless pod's contained network ("default"): a network namespace of the pod's own, owned by
// the rootless user namespace, connected to the outside by pasta or slirp4netns
// (rootless_net_tool.h) running in the user's network namespace, as podman does it. The helper
// must live in the user's namespace, which the supervisor cannot re-enter once it left it (that
// namespace belongs to the initial user namespace): so its process is forked before the
// supervisor unshares, waits on a pipe, then opens the new namespace through
// /proc/<supervisor>/ns/net (itself, with the supervisor's credentials: pasta drops capabilities
// before it opens a path and would be refused) and execs the tool on that fd. It stays the
// supervisor's child, dies with it (PR_SET_PDEATHSIG, and slirp4netns's --exit-fd) and is
// killed when the pod ends. Single-threaded (the supervisor's).
#ifndef COMET_SUPERVISOR_ROOTLESS_NET_H_
#define COMET_SUPERVISOR_ROOTLESS_NET_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "network/attachment.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"
#include "supervisor/rootless_net_tool.h"

namespace comet::supervisor {

// The tool's command line, its fds laid out by the helper process: 3 the pod's network
// namespace, 4 the readiness pipe, 5 (slirp4netns) the exit pipe. `api_socket`: slirp4netns's.
inline constexpr int kHelperNetnsFd = 3;
inline constexpr int kHelperReadyFd = 4;
inline constexpr int kHelperExitFd = 5;
[[nodiscard]] std::vector<std::string> RootlessNetArgv(const RootlessNetTool& tool,
                                                       const std::vector<pod::PortMapping>& ports,
                                                       const std::string& api_socket);

// slirp4netns's add_hostfwd request for one published port.
[[nodiscard]] json::Json SlirpHostFwdRequest(const pod::PortMapping& port);
// Its answer: ok, or the error slirp4netns gave.
[[nodiscard]] Status CheckSlirpReply(std::string_view reply);

// The pod's /etc/resolv.conf for the tool when the manifest sets no DNS: slirp4netns answers on
// 10.0.2.3, which goes first, then the host's nameservers `host_resolv` (without loopback ones,
// which the pod cannot reach); pasta copies the host's (again without loopback nameservers).
[[nodiscard]] std::string RootlessResolvConf(RootlessNetKind kind, const std::string& host_resolv);

// The record status shows (pod_networks.h): network "default", the interface's addresses and
// gateway, a CNI-shaped result; its config names the tool (pod::kRootlessToolKey), so teardown
// knows there is nothing to DEL.
[[nodiscard]] Result<network::NetworkAttachment> RootlessNetRecord(
    RootlessNetKind kind, const std::string& uuid, const std::string& ifname,
    const std::string& ipv4_cidr, const std::string& gateway4, const std::string& ipv6_cidr);

class RootlessNet {
 public:
  // Step 1, in the user's network namespace: finds the tool (or fails with the install hint) and
  // forks the helper process, which waits. `pod_dir` holds the tool's log and api socket (in
  // its volatile state directory).
  [[nodiscard]] static Result<std::unique_ptr<RootlessNet>> Prepare(
      const pod::PodManifest& manifest, const std::string& pod_dir);
  // Step 2, after this process unshared the pod's network namespace (lo up): starts the tool on
  // it, waits until it is ready (10 s at most), publishes the ports (slirp4netns) and returns the
  // pod's record. On failure the helper is gone and the error has the tool's last output.
  [[nodiscard]] Result<network::NetworkAttachment> Start();
  // The helper's pid while it runs (Reap: an exit of this pid is the helper's), else 0.
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] RootlessNetKind kind() const { return tool_.kind; }
  // Reap saw the helper exit (`wait_status` from waitpid): it is forgotten, with a warning.
  void Exited(int wait_status);
  // Kills and reaps the helper; repeatable.
  void Stop();

  ~RootlessNet();
  RootlessNet(const RootlessNet&) = delete;
  RootlessNet& operator=(const RootlessNet&) = delete;
  RootlessNet(RootlessNet&&) = delete;
  RootlessNet& operator=(RootlessNet&&) = delete;

 private:
  RootlessNet() = default;
  Status Fork(const std::vector<std::string>& args);
  Status WaitReady();
  Status PublishSlirpPorts() const;
  Error WithToolOutput(Error error) const;

  RootlessNetTool tool_;
  pod::PodManifest manifest_;
  std::string log_path_;
  std::string api_socket_;
  pid_t pid_ = 0;
  os::UniqueFd go_;     // write end: one byte lets the helper exec the tool; closing ends it
  os::UniqueFd ready_;  // read end: the tool writes when ready; EOF: it is gone
  os::UniqueFd exit_;   // write end of slirp4netns's --exit-fd pipe, held for the pod's life
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_ROOTLESS_NET_H_
