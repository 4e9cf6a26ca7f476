// Pods as systemd service units, rktnetes' way (kubelet's rkt runtime, 1.3-1.10): the unit file
// /run/systemd/system/k8s_<uuid>.service runs `comet run-prepared <uuid>` in the foreground, so
// the pod's supervisor is the unit's main process; RestartUnit(replace) starts it and StopUnit
// stops it (KillMode=mixed: SIGTERM to the supervisor, which stops its apps within the grace
// period, SIGKILL after TimeoutStopSec). Also OpenSupervision and AgentPodDir.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "node/pod_supervision.h"
#include "node/unit_file.h"
#include "os/file.h"

namespace comet::node {

namespace {

bool Inactive(const UnitState& state) {
  return state.load_state == "not-found" || state.active_state == "inactive" ||
         state.active_state == "failed";
}

class SystemdSupervision final : public PodSupervision {
 public:
  SystemdSupervision(SupervisionOptions options, SystemdManager manager)
      : options_(std::move(options)), manager_(std::move(manager)), runner_(options_.runner) {}

  [[nodiscard]] const char* name() const override { return "systemd"; }

  Status Start(const SupervisedPod& pod) override {
    const std::string dir = AgentPodDir(options_.root_dir, pod.uuid);
    RETURN_IF_ERROR(os::MkdirAll(dir, 0755));
    // The marker of an earlier run of this unit (there is none: a UUID runs once) must not date
    // this one's end.
    (void)::unlink(os::JoinPath(dir, "finished").c_str());
    PodUnit unit;
    unit.pod_uuid = pod.uuid;
    unit.exec_start = runner_.RunPreparedArgv(pod.uuid);
    unit.stop_post_marker = os::JoinPath(dir, "finished");
    // The supervisor gives the apps the grace period on SIGTERM and then SIGKILLs them itself: the
    // apps are not in the unit's cgroup, so systemd's own SIGKILL must come later, or it would
    // kill the supervisor alone and leave them running.
    unit.timeout_stop_sec =
        std::max<int64_t>(pod.grace_seconds, kMinTimeoutStopSec) + kSupervisorStopMarginSec;
    unit.description =
        fmt::format("Kubernetes pod {}/{} (comet pod {})", pod.namespace_name, pod.name, pod.uuid);
    unit.syslog_identifier = pod.name;
    unit.kubernetes = {{"PodUID", pod.uid},
                       {"PodName", pod.name},
                       {"PodNamespace", pod.namespace_name},
                       {"PodHostNetwork", pod.host_network ? "true" : "false"}};
    RETURN_IF_ERROR(WriteUnit(options_.unit_dir, unit));
    RETURN_IF_ERROR(manager_.Reload());
    return manager_.RestartUnit(UnitName(pod.uuid), "replace");
  }

  Status Stop(const std::string& uuid, int64_t grace_seconds) override {
    ASSIGN_OR_RETURN(UnitState state, manager_.GetUnitState(UnitName(uuid)));
    if (Inactive(state)) {
      return Ok();
    }
    // systemd kills the unit after TimeoutStopSec itself; the wait only must not end first.
    manager_.set_job_timeout(std::max<std::chrono::milliseconds>(
        manager_.job_timeout(), std::chrono::seconds(grace_seconds + 60)));
    return manager_.StopUnit(UnitName(uuid), "replace");
  }

  Status Forget(const std::string& uuid) override {
    RETURN_IF_ERROR(RemoveUnit(options_.unit_dir, uuid));
    RETURN_IF_ERROR(manager_.Reload());
    // A unit that failed stays loaded (and listed) until its failure is reset; one that is not
    // loaded at all has nothing to reset.
    if (Status reset = manager_.ResetFailedUnit(UnitName(uuid)); !reset) {
      log::Debug("reset-failed {}: {}", UnitName(uuid), reset.error().ToString());
    }
    return os::RemoveAll(AgentPodDir(options_.root_dir, uuid));
  }

  Result<std::optional<UnitState>> State(const std::string& uuid) override {
    ASSIGN_OR_RETURN(UnitState state, manager_.GetUnitState(UnitName(uuid)));
    return std::optional<UnitState>(std::move(state));
  }

  Result<std::vector<std::string>> KnownPods() override {
    std::set<std::string> uuids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.unit_dir, ec)) {
      if (auto uuid = PodUuidFromUnitName(entry.path().filename().string())) {
        uuids.insert(*uuid);
      }
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return Err(Error::FromCode(ec.value(), "listing", options_.unit_dir));
    }
    // Units systemd still has loaded without a file: a failed unit whose file went away.
    ASSIGN_OR_RETURN(std::vector<std::string> loaded, manager_.ListUnits("k8s_*.service"));
    for (const std::string& unit : loaded) {
      if (auto uuid = PodUuidFromUnitName(unit)) {
        uuids.insert(*uuid);
      }
    }
    return std::vector<std::string>(uuids.begin(), uuids.end());
  }

  std::optional<std::chrono::system_clock::time_point> UnitFileTime(
      const std::string& uuid) const override {
    struct stat st {};
    const std::string path = os::JoinPath(options_.unit_dir, UnitName(uuid));
    if (::stat(path.c_str(), &st) != 0) {
      return std::nullopt;
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(st.st_mtim.tv_sec) +
            std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  }

  Status Subscribe(UnitChanged changed) override { return manager_.Subscribe(std::move(changed)); }
  [[nodiscard]] int fd() const override { return manager_.fd(); }
  [[nodiscard]] short events() const override { return manager_.events(); }
  Status Process() override { return manager_.Process(); }

 private:
  SupervisionOptions options_;
  SystemdManager manager_;
  CometRunner runner_;
};

}  // namespace

std::string AgentPodDir(const std::string& root_dir, const std::string& uuid) {
  return os::JoinPath(os::JoinPath(root_dir, "pods"), uuid);
}

Result<std::unique_ptr<PodSupervision>> OpenSupervision(const SupervisionOptions& options) {
  if (!options.systemd) {
    return MakeDirectSupervision(options);
  }
  ASSIGN_OR_RETURN(SystemdManager manager, SystemdManager::Connect(options.systemd_bus));
  return std::unique_ptr<PodSupervision>(
      std::make_unique<SystemdSupervision>(options, std::move(manager)));
}

}  // namespace comet::node
