// PodSupervision: how the agent keeps a prepared comet pod running, and stops and forgets it.
// Two backends (sibling files): systemd (pod_supervision_systemd.cc), rktnetes' way — a
// k8s_<uuid>.service unit per pod written to the unit directory and driven over D-Bus, whose
// state and changes systemd reports; and direct (pod_supervision_direct.cc), for machines
// without systemd — `comet run-prepared -d`, with state from the api-service alone. One object
// per thread: the agent's loop has one (state, changes), each pod operation opens its own (a
// systemd connection is not thread-safe, and operations run on their own threads).
#ifndef COMET_NODE_POD_SUPERVISION_H_
#define COMET_NODE_POD_SUPERVISION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "node/comet_runner.h"
#include "node/systemd_manager.h"

namespace comet::node {

// What a pod's supervision is told about the Kubernetes pod ([X-Kubernetes] of its unit).
struct SupervisedPod {
  std::string uuid;  // the comet pod
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool host_network = false;
  int64_t grace_seconds = 30;  // terminationGracePeriodSeconds
};

struct SupervisionOptions {
  bool systemd = true;
  std::string systemd_bus;  // empty: the system bus
  std::string unit_dir;
  std::string root_dir;  // <root-dir>/pods/<uuid>/finished is the unit's ExecStopPost marker
  CometRunnerOptions runner;
};

class PodSupervision {
 public:
  using UnitChanged = SystemdManager::UnitChanged;

  virtual ~PodSupervision() = default;

  // "systemd" or "direct".
  [[nodiscard]] virtual const char* name() const = 0;
  // Starts the prepared pod and returns once it runs (systemd: its unit's start job is done).
  [[nodiscard]] virtual Status Start(const SupervisedPod& pod) = 0;
  // Stops it, waiting at most about its grace period (then it is killed); a pod that does not
  // run is fine.
  [[nodiscard]] virtual Status Stop(const std::string& uuid, int64_t grace_seconds) = 0;
  // Forgets a stopped pod's supervision (its unit file and failed state; its stop marker).
  [[nodiscard]] virtual Status Forget(const std::string& uuid) = 0;
  // What systemd says of the pod's unit (nullopt for direct supervision, which has no view of
  // its own).
  [[nodiscard]] virtual Result<std::optional<UnitState>> State(const std::string& uuid) = 0;
  // The UUIDs of the pods supervision knows (unit files in the unit dir, and units systemd has
  // loaded); none for direct.
  [[nodiscard]] virtual Result<std::vector<std::string>> KnownPods() = 0;
  // Unit files' modification times, for the gc of orphans (nullopt: no such file).
  [[nodiscard]] virtual std::optional<std::chrono::system_clock::time_point> UnitFileTime(
      const std::string& uuid) const = 0;

  // For the agent's poll loop: unit changes are reported to `changed` from Process().
  [[nodiscard]] virtual Status Subscribe(UnitChanged changed) = 0;
  [[nodiscard]] virtual int fd() const = 0;  // -1: nothing to poll
  [[nodiscard]] virtual short events() const = 0;
  [[nodiscard]] virtual Status Process() = 0;
};

// Opens supervision of the kind `options` names (systemd: connects to systemd's bus).
[[nodiscard]] Result<std::unique_ptr<PodSupervision>> OpenSupervision(
    const SupervisionOptions& options);

// The direct backend (pod_supervision_direct.cc), for OpenSupervision.
[[nodiscard]] std::unique_ptr<PodSupervision> MakeDirectSupervision(
    const SupervisionOptions& options);

// <root-dir>/pods/<uuid>: the pod's directory of the agent (its stop marker).
[[nodiscard]] std::string AgentPodDir(const std::string& root_dir, const std::string& uuid);

}  // namespace comet::node

#endif  // COMET_NODE_POD_SUPERVISION_H_
