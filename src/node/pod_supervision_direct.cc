// Pods without systemd (--pod-supervision=direct): `comet run-prepared -d` starts the pod's
// supervisor detached (it needs no one above it: comet is daemonless), `comet stop` stops it.
// Nothing restarts a pod whose supervisor died but the agent itself, which learns of it from the
// api-service at its next sync.
#include "base/log.h"
#include "node/pod_supervision.h"
#include "os/file.h"

namespace comet::node {

namespace {

class DirectSupervision final : public PodSupervision {
 public:
  explicit DirectSupervision(SupervisionOptions options)
      : options_(std::move(options)), runner_(options_.runner) {}

  [[nodiscard]] const char* name() const override { return "direct"; }

  Status Start(const SupervisedPod& pod) override { return runner_.RunPreparedDetached(pod.uuid); }

  Status Stop(const std::string& uuid, int64_t grace_seconds) override {
    return runner_.Stop(uuid, std::chrono::seconds(grace_seconds));
  }

  Status Forget(const std::string& uuid) override {
    return os::RemoveAll(AgentPodDir(options_.root_dir, uuid));
  }

  Result<std::optional<UnitState>> State(const std::string& /*uuid*/) override {
    return std::optional<UnitState>();
  }
  Result<std::vector<std::string>> KnownPods() override { return std::vector<std::string>(); }
  std::optional<std::chrono::system_clock::time_point> UnitFileTime(
      const std::string& /*uuid*/) const override {
    return std::nullopt;
  }

  Status Subscribe(UnitChanged /*changed*/) override { return Ok(); }
  [[nodiscard]] int fd() const override { return -1; }
  [[nodiscard]] short events() const override { return 0; }
  Status Process() override { return Ok(); }

 private:
  SupervisionOptions options_;
  CometRunner runner_;
};

}  // namespace

std::unique_ptr<PodSupervision> MakeDirectSupervision(const SupervisionOptions& options) {
  return std::make_unique<DirectSupervision>(options);
}

}  // namespace comet::node
