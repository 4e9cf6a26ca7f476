// Lifecycle hooks (see lifecycle_hooks.h).
#include "node/lifecycle_hooks.h"

#include <algorithm>
#include <future>
#include <thread>

#include <fmt/format.h>

namespace comet::node {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// rktnetes polled InspectPod this often for a started app.
constexpr milliseconds kAppPoll{500};

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

enum class AppWait { kRunning, kGone, kTimedOut };

// Polls the api-service until `app` of pod `uuid` runs; kGone when the pod ended first.
AppWait WaitForApp(const ApiClient& api, const std::string& uuid, const std::string& app,
                   Clock::time_point deadline, std::string* ip, bool host_network) {
  while (true) {
    auto pod = api.InspectPod(uuid);
    if (pod) {
      if (pod->state() == v1alpha::POD_STATE_EXITED || pod->state() == v1alpha::POD_STATE_GARBAGE ||
          pod->state() == v1alpha::POD_STATE_ABORTED_PREPARE) {
        return AppWait::kGone;
      }
      for (const v1alpha::App& candidate : pod->apps()) {
        if (candidate.name() == app && candidate.state() == v1alpha::APP_STATE_RUNNING) {
          *ip = PodProbeIp(*pod, host_network);
          return AppWait::kRunning;
        }
      }
    }
    if (Clock::now() + kAppPoll > deadline) {
      return AppWait::kTimedOut;
    }
    std::this_thread::sleep_for(kAppPoll);
  }
}

}  // namespace

std::string PodProbeIp(const v1alpha::Pod& pod, bool host_network) {
  if (host_network) {
    return "127.0.0.1";
  }
  for (const v1alpha::Network& network : pod.networks()) {
    if (!network.ipv4().empty()) {
      return network.ipv4();
    }
  }
  for (const v1alpha::Network& network : pod.networks()) {
    if (!network.ipv6().empty()) {
      return network.ipv6();
    }
  }
  return "127.0.0.1";
}

ProbeTarget TargetFor(const kube::Container& container, const std::string& uuid,
                      const std::string& ip) {
  ProbeTarget target;
  target.pod_uuid = uuid;
  target.app = container.name;
  target.ip = ip;
  for (const kube::ContainerPort& port : container.ports) {
    if (!port.name.empty()) {
      target.named_ports[port.name] = port.container_port;
    }
  }
  return target;
}

bool HasPostStartHooks(const kube::Pod& pod) {
  return std::ranges::any_of(pod.spec.containers, [](const kube::Container& c) {
    return c.lifecycle && c.lifecycle->post_start;
  });
}

bool HasPreStopHooks(const kube::Pod& pod) {
  return std::ranges::any_of(pod.spec.containers, [](const kube::Container& c) {
    return c.lifecycle && c.lifecycle->pre_stop;
  });
}

std::vector<HookFailure> RunPostStartHooks(const kube::Pod& pod, const std::string& uuid,
                                           const ApiClient& api, const CometRunner& runner,
                                           milliseconds wait_for_app, milliseconds budget) {
  std::vector<HookFailure> failures;
  const Clock::time_point deadline = Clock::now() + budget;
  for (const kube::Container& container : pod.spec.containers) {
    if (!container.lifecycle || !container.lifecycle->post_start) {
      continue;
    }
    std::string ip;
    const Clock::time_point app_deadline = std::min(deadline, Clock::now() + wait_for_app);
    switch (WaitForApp(api, uuid, container.name, app_deadline, &ip, pod.spec.host_network)) {
      case AppWait::kGone:
        failures.push_back({container.name, "the pod exited before the container ran"});
        return failures;
      case AppWait::kTimedOut:
        failures.push_back(
            {container.name,
             fmt::format("the container did not run within {}s",
                         std::chrono::duration_cast<std::chrono::seconds>(wait_for_app).count())});
        continue;
      case AppWait::kRunning:
        break;
    }
    const milliseconds left = Left(deadline);
    CheckResult result = RunAction(*container.lifecycle->post_start, TargetFor(container, uuid, ip),
                                   runner, std::max(left, milliseconds(1)));
    if (!result.ok) {
      failures.push_back({container.name, result.message});
    }
  }
  return failures;
}

std::vector<HookFailure> RunPreStopHooks(const kube::Pod& pod, const std::string& uuid,
                                         const std::string& ip, const CometRunner& runner,
                                         milliseconds budget) {
  std::vector<std::pair<std::string, std::future<CheckResult>>> running;
  for (const kube::Container& container : pod.spec.containers) {
    if (!container.lifecycle || !container.lifecycle->pre_stop) {
      continue;
    }
    running.emplace_back(container.name,
                         std::async(std::launch::async, [&container, &uuid, &ip, &runner, budget] {
                           return RunAction(*container.lifecycle->pre_stop,
                                            TargetFor(container, uuid, ip), runner, budget);
                         }));
  }
  std::vector<HookFailure> failures;
  for (auto& [name, future] : running) {
    // Every action is bounded by `budget` itself (exec kills its process group), so get() ends.
    CheckResult result = future.get();
    if (!result.ok) {
      failures.push_back({name, result.message});
    }
  }
  return failures;
}

}  // namespace comet::node
