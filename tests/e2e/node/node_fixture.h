// NodeTest: the fixture of the node agent's end-to-end tests. One suite shares one real systemd
// (testing::SystemdInstance, booted once), one comet data dir with the busybox image, one
// comet-api-service on 127.0.0.1 and one agent root dir; each test starts its own comet-node
// (the built binary) on a manifest dir, talking to the instance's systemd over its bus and
// writing units into its unit dir. The suite's directory and the host's /run/comet are shared
// with the instance at the same paths, so that `comet` on the host (the agent's prepare, exec
// and rm; the api-service) and `comet run-prepared` in the units inside see the same pods.
// Not thread-safe: one test at a time.
#ifndef COMET_TESTS_E2E_NODE_NODE_FIXTURE_H_
#define COMET_TESTS_E2E_NODE_NODE_FIXTURE_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "e2e/pod/pod_fixture.h"
#include "e2e/subprocess.h"
#include "node/api_client.h"
#include "node/describe.h"
#include "node/pod_attempts.h"
#include "os/temp_dir.h"
#include "testing/systemd_instance.h"

namespace comet::e2e::node {

using namespace std::chrono_literals;
using comet::node::Attempt;
using pod::Background;
using pod::Contains;
using pod::kStillRunning;

// comet-node and comet-api-service under test: $COMET_NODE / $COMET_API_SERVICE, else the ones
// built with the test.
const std::string& NodeBinary();
const std::string& ApiServiceBinary();

class NodeTest : public ::testing::Test {
 public:
  static constexpr const char* kImage = "local/busybox:1";
  // A container script that runs until SIGTERM (and ends at once on it).
  static constexpr const char* kSleeper = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // The suite's shared state.
  static const std::string& dir();  // the suite's directory (shared with the instance)
  static std::string data() { return dir() + "/data"; }
  static std::string root() { return dir() + "/root"; }
  static std::string manifests() { return dir() + "/manifests"; }
  static testing::SystemdInstance& instance();
  static const std::string& api_address();  // "127.0.0.1:PORT"

  // comet-node's arguments for this suite (systemd supervision in the instance).
  static std::vector<std::string> AgentArgs();
  // Starts (again) the test's agent; its output goes to <root>/agent-<n>.log.
  void StartAgent(const std::vector<std::string>& extra = {});
  Background& agent() { return *agent_; }
  std::string AgentLog() const;
  // SIGTERM and wait; the exit code.
  int StopAgent();
  // Starts the api-service on the suite's port (again, after a kill).
  static void StartApiService();
  static Background& api_service();

  // Writes a manifest (atomically, as a tool should: temp file + rename).
  static void WriteManifest(const std::string& name, const std::string& yaml);
  static void RemoveManifest(const std::string& name);

  // The agent's attempts of Kubernetes pod default/<name>, oldest first, from the api-service.
  static std::vector<Attempt> Attempts(const std::string& name);
  // The newest attempt once it is RUNNING (waiting up to `timeout`); nullopt otherwise.
  static std::optional<Attempt> WaitRunning(const std::string& name,
                                            std::chrono::milliseconds timeout = 60s);
  // Waits until the api-service lists no comet pod for `name` and no unit file of `uuids` is
  // left.
  static bool WaitGone(const std::string& name, const std::vector<std::string>& uuids,
                       std::chrono::milliseconds timeout = 60s);

  // `systemctl ARGS...` inside the instance: its stdout (trimmed).
  static std::string Systemctl(const std::vector<std::string>& args);
  static std::string UnitProperty(const std::string& uuid, const std::string& property);
  // The unit file's text ("" when missing).
  static std::string UnitFile(const std::string& uuid);
  // The events the agent recorded for default/<name> (from its file).
  static std::vector<comet::node::Event> Events(const std::string& name);
  static bool HasEvent(const std::string& name, const std::string& reason,
                       const std::string& text = "");
  // HasEvent within 10 s (operations record theirs on their own threads).
  static bool WaitEvent(const std::string& name, const std::string& reason,
                        const std::string& text = "");
  // An app's status file in the data dir (what the supervisor wrote).
  static std::string AppStatusJson(const std::string& uuid, const std::string& app);
  // `comet node ARGS...` (the comet CLI exec'ing comet-node) with the suite's api-service
  // endpoint and agent root dir.
  static ProcResult CometNode(std::vector<std::string> args);
  // `comet [--dir=data] ARGS...` on the host.
  static ProcResult Comet(std::vector<std::string> args, const ProcOptions& options = {});

  static bool WaitUntil(const std::function<bool()>& condition,
                        std::chrono::milliseconds timeout = 30s);

  // A Pod manifest of busybox containers: `containers` is the YAML list under `containers:`.
  static std::string PodYaml(const std::string& name, const std::string& containers,
                             const std::string& extra_spec = "");

 private:
  std::unique_ptr<Background> agent_;
  int agent_runs_ = 0;
};

}  // namespace comet::e2e::node

#endif  // COMET_TESTS_E2E_NODE_NODE_FIXTURE_H_
