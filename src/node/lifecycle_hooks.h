// Containers' lifecycle hooks, run by the agent from outside the pod as the kubelet ran them:
// postStart once the container's app runs (the api-service polled every 500 ms, as rktnetes did
// after starting a unit), preStop before the pod is stopped, every container's at once, all
// bounded by the pod's grace period. Blocking; thread-safe (pod operations call them on their
// own threads).
#ifndef COMET_NODE_LIFECYCLE_HOOKS_H_
#define COMET_NODE_LIFECYCLE_HOOKS_H_

#include <chrono>
#include <string>
#include <vector>

#include "kube/objects.h"
#include "node/api_client.h"
#include "node/comet_runner.h"
#include "node/probe_check.h"

namespace comet::node {

struct HookFailure {
  std::string container;
  std::string message;
};

// The address probes and hooks use for `pod`: its first IPv4 (else IPv6) network address, or
// 127.0.0.1 for a host-network pod and for one without an address (--net=none).
[[nodiscard]] std::string PodProbeIp(const v1alpha::Pod& pod, bool host_network);

// Where `container`'s actions run in comet pod `uuid` at `ip`.
[[nodiscard]] ProbeTarget TargetFor(const kube::Container& container, const std::string& uuid,
                                    const std::string& ip);

// Runs the postStart hook of every container that has one, in order, each once its app runs
// (waiting up to `wait_for_app` for it). All hooks together take at most `budget`. A container
// whose app never ran, or whose hook failed, is a failure.
[[nodiscard]] std::vector<HookFailure> RunPostStartHooks(
    const kube::Pod& pod, const std::string& uuid, const ApiClient& api, const CometRunner& runner,
    std::chrono::milliseconds wait_for_app, std::chrono::milliseconds budget);

// Runs the preStop hook of every container that has one, all at once, within `budget`; returns
// when all ended or the budget is spent.
[[nodiscard]] std::vector<HookFailure> RunPreStopHooks(const kube::Pod& pod,
                                                       const std::string& uuid,
                                                       const std::string& ip,
                                                       const CometRunner& runner,
                                                       std::chrono::milliseconds budget);

// Whether any container of `pod` has a postStart (preStop) hook.
[[nodiscard]] bool HasPostStartHooks(const kube::Pod& pod);
[[nodiscard]] bool HasPreStopHooks(const kube::Pod& pod);

}  // namespace comet::node

#endif  // COMET_NODE_LIFECYCLE_HOOKS_H_
