// The node agent end to end (issue 7): the built comet-node against a real systemd, running
// static pods through k8s_<uuid>.service units and learning their state from the api-service.
// A manifest becomes a running unit and pod and its removal stops and removes both; a crashing
// container restarts with growing back-off; `systemctl stop` of a unit is seen and the pod
// restarted; kill -9 of the agent and of the api-service leaves pods running, and a new agent
// adopts them; a failing liveness probe restarts the pod; postStart and preStop hooks run in
// order; init containers and a missing hostPath work; readiness feeds READY, and a container
// restarted inside its pod gets its probes over again; `comet node get pods` and `describe pod`
// show phase, QoS and restarts; direct supervision without systemd.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "e2e/node/node_fixture.h"
#include "node/agent_pod_file.h"
#include "node/unit_file.h"
#include "os/file.h"

namespace comet::e2e::node {
namespace {

using comet::node::UnitName;

// One busybox container running `script` (YAML list item under `containers:`), with `more`
// (indented YAML lines of the container) appended.
std::string Container(const std::string& name, const std::string& script,
                      const std::string& more = "") {
  return fmt::format(
      "  - name: {}\n"
      "    image: {}\n"
      "    command: [\"/bin/sh\", \"-c\", {}]\n"
      "{}",
      name, NodeTest::kImage, JsonQuote(script), more);
}

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  EXPECT_TRUE(bound);
  return ntohs(addr.sin_port);
}

// The starts of an app's runs (ns since the epoch), from its status file.
std::vector<int64_t> RunStarts(const std::string& status_json) {
  std::vector<int64_t> starts;
  auto status = nlohmann::json::parse(status_json, nullptr, false);
  if (status.is_discarded() || !status.contains("attempts")) {
    return starts;
  }
  for (const auto& attempt : status["attempts"]) {
    starts.push_back(pod::ParseRfc3339Nanos(attempt.value("started", "")));
  }
  return starts;
}

TEST_F(NodeTest, ManifestBecomesUnitAndPodAndItsRemovalRemovesBoth) {
  // A unit left by an agent of long ago, whose pod is gone: collected.
  const std::string orphan = "5c1f0e2a-7b3d-4c8e-9f10-a1b2c3d4e5f6";
  const std::string orphan_file = instance().UnitDir() + "/" + UnitName(orphan);
  WriteFileOrDie(orphan_file, "[Service]\nExecStart=/bin/true\n");
  const timespec old[2] = {{::time(nullptr) - 120, 0}, {::time(nullptr) - 120, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, orphan_file.c_str(), old, 0), 0);

  WriteManifest("web.yaml", PodYaml("web", Container("web", kSleeper)));
  StartAgent();
  std::optional<Attempt> running = WaitRunning("web");
  ASSERT_TRUE(running) << "no running pod for web";
  const std::string uuid = running->uuid();
  EXPECT_EQ(running->restart_count, 0);
  EXPECT_EQ(Systemctl({"is-active", UnitName(uuid)}), "active");
  // The supervisor is the unit's main process (pids of the instance's namespace on both sides).
  std::string pid;
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<Attempt> attempts = Attempts("web");
        pid = attempts.empty() ? "" : std::to_string(attempts.back().pod.pid());
        return pid == UnitProperty(uuid, "MainPID");
      },
      10s))
      << "api-service: pid " << pid << ", systemd: MainPID " << UnitProperty(uuid, "MainPID");
  const std::string unit = UnitFile(uuid);
  EXPECT_TRUE(Contains(unit, "run-prepared")) << unit;
  EXPECT_TRUE(Contains(unit, "KillMode=mixed")) << unit;
  // The pod's grace (5 s) and the margin that lets the supervisor SIGKILL its apps first.
  EXPECT_TRUE(Contains(unit, "TimeoutStopSec=20s")) << unit;
  EXPECT_TRUE(Contains(unit, "[X-Kubernetes]")) << unit;
  EXPECT_TRUE(Contains(unit, "PodName=web")) << unit;
  EXPECT_TRUE(Contains(unit, "PodNamespace=default")) << unit;
  EXPECT_TRUE(Contains(unit, "ExecStopPost=")) << unit;
  EXPECT_TRUE(WaitEvent("web", "Created", uuid));
  EXPECT_TRUE(WaitEvent("web", "Started", UnitName(uuid)));
  EXPECT_TRUE(WaitUntil([&] { return !os::Exists(orphan_file); })) << AgentLog();
  // The agent logs the removal after the unit file is gone: wait for the line too.
  EXPECT_TRUE(WaitUntil([&] {
    return Contains(AgentLog(), "removed orphaned unit " + UnitName(orphan));
  })) << AgentLog();

  RemoveManifest("web.yaml");
  EXPECT_TRUE(WaitGone("web", {uuid})) << AgentLog();
  EXPECT_NE(Systemctl({"is-active", UnitName(uuid)}), "active");
  // The stop marker was touched when the pod ended, before its directory was removed: the unit
  // ran its ExecStopPost (systemd says so).
  EXPECT_EQ(UnitProperty(uuid, "LoadState"), "not-found");
  EXPECT_TRUE(Contains(AgentLog(), "Killing: Stopping pod: its manifest was removed"));
  EXPECT_TRUE(WaitUntil([&] { return Events("web").empty(); }))
      << "the events of a removed pod are forgotten";
}

TEST_F(NodeTest, CrashingContainerRestartsWithGrowingBackOff) {
  WriteManifest("crash.yaml", PodYaml("crash", Container("crash", "echo crashing; exit 1")));
  StartAgent();
  std::vector<Attempt> attempts;
  std::vector<int64_t> starts;
  ASSERT_TRUE(WaitUntil(
      [&] {
        attempts = Attempts("crash");
        if (attempts.empty()) {
          return false;
        }
        starts = RunStarts(AppStatusJson(attempts.back().uuid(), "crash"));
        return starts.size() >= 4;
      },
      60s))
      << "runs: " << starts.size() << "\n"
      << AgentLog();
  // Back-off 0.5 s doubling (the test's scale): each wait longer than the one before.
  const int64_t first_gap = starts[1] - starts[0];
  const int64_t third_gap = starts[3] - starts[2];
  EXPECT_GT(third_gap, first_gap + 1'000'000'000) << first_gap << " " << third_gap;
  // The supervisor restarts the container in place; the unit and the comet pod stay.
  EXPECT_EQ(Attempts("crash").size(), 1u);
  EXPECT_EQ(Systemctl({"is-active", UnitName(attempts.back().uuid())}), "active");
  ProcResult got = CometNode({"get", "pods"});
  ASSERT_TRUE(got.ok()) << got.Describe();
  std::smatch restarts;
  ASSERT_TRUE(
      std::regex_search(got.out, restarts, std::regex(R"(default\s+crash\s+[01]/1\s+\S+\s+(\d+))")))
      << got.out;
  EXPECT_GE(std::stoi(restarts[1].str()), 3) << got.out;
}

TEST_F(NodeTest, SystemctlStopIsSeenAndThePodRestarted) {
  WriteManifest("stopped.yaml", PodYaml("stopped", Container("stopped", kSleeper)));
  StartAgent();
  std::optional<Attempt> first = WaitRunning("stopped");
  ASSERT_TRUE(first);
  auto stopped = instance().RunInside({"systemctl", "stop", UnitName(first->uuid())});
  ASSERT_TRUE(stopped && stopped->exit_code == 0);
  std::vector<Attempt> attempts;
  ASSERT_TRUE(WaitUntil(
      [&] {
        attempts = Attempts("stopped");
        return attempts.size() == 2 && attempts.back().pod.state() == v1alpha::POD_STATE_RUNNING;
      },
      60s))
      << AgentLog();
  EXPECT_EQ(attempts[0].uuid(), first->uuid());
  EXPECT_EQ(attempts[0].pod.state(), v1alpha::POD_STATE_EXITED) << "the old pod is kept";
  EXPECT_EQ(attempts[1].restart_count, 1);
  EXPECT_EQ(Systemctl({"is-active", UnitName(attempts[1].uuid())}), "active");
  EXPECT_TRUE(WaitEvent("stopped", "Exited", first->uuid()));
  EXPECT_TRUE(WaitEvent("stopped", "BackOff"));

  // What kubectl would show: Running, the QoS class, one restart, the agent's events.
  ProcResult got = CometNode({"get", "pods"});
  ASSERT_TRUE(got.ok()) << got.Describe();
  EXPECT_TRUE(Contains(got.out, "NAMESPACE")) << got.out;
  EXPECT_TRUE(std::regex_search(got.out, std::regex(R"(default\s+stopped\s+1/1\s+Running\s+1)")))
      << got.out;
  ProcResult described = CometNode({"describe", "pod", "stopped"});
  ASSERT_TRUE(described.ok()) << described.Describe();
  const std::string& text = described.out;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(Status:\s+Running)"))) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(QoS Class:\s+BestEffort)"))) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(Restart Count:\s+1)"))) << text;
  EXPECT_TRUE(Contains(text, attempts[1].uuid())) << text;
  EXPECT_TRUE(Contains(text, "Exited")) << text;
  EXPECT_TRUE(Contains(text, "comet-node")) << text;
  ProcResult missing = CometNode({"describe", "pod", "nosuchpod"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(Contains(missing.err, "not found")) << missing.Describe();

  // Two more stops: the newest two attempts are kept, the first is collected with its unit.
  for (int restart = 2; restart <= 3; ++restart) {
    const std::string newest = attempts.back().uuid();
    ASSERT_TRUE(instance().RunInside({"systemctl", "stop", UnitName(newest)}));
    ASSERT_TRUE(WaitUntil(
        [&] {
          attempts = Attempts("stopped");
          return !attempts.empty() && attempts.back().restart_count == restart &&
                 attempts.back().pod.state() == v1alpha::POD_STATE_RUNNING;
        },
        60s))
        << AgentLog();
  }
  EXPECT_TRUE(WaitUntil([&] { return Attempts("stopped").size() == 2; })) << AgentLog();
  attempts = Attempts("stopped");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].restart_count, 2);
  EXPECT_TRUE(UnitFile(first->uuid()).empty()) << "the collected attempt's unit is left";
  EXPECT_EQ(UnitProperty(first->uuid(), "LoadState"), "not-found");
}

TEST_F(NodeTest, KillNineOfAgentAndApiServiceLeavesPodsRunningAndTheyAreAdopted) {
  WriteManifest("adopt.yaml", PodYaml("adopt", Container("adopt", kSleeper)));
  StartAgent();
  std::optional<Attempt> running = WaitRunning("adopt");
  ASSERT_TRUE(running);
  const std::string uuid = running->uuid();
  const std::string invocation = UnitProperty(uuid, "InvocationID");
  const std::string main_pid = UnitProperty(uuid, "MainPID");
  ASSERT_FALSE(invocation.empty());

  ::kill(agent().pid(), SIGKILL);
  EXPECT_EQ(agent().Wait(10s), -SIGKILL);
  ::kill(api_service().pid(), SIGKILL);
  EXPECT_EQ(api_service().Wait(10s), -SIGKILL);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(Systemctl({"is-active", UnitName(uuid)}), "active");

  // A new agent while the api-service is down: it waits, and changes nothing.
  StartAgent();
  EXPECT_TRUE(WaitUntil([&] { return Contains(AgentLog(), "pods are left as they are"); }))
      << AgentLog();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(UnitProperty(uuid, "InvocationID"), invocation);

  StartApiService();
  ASSERT_TRUE(WaitEvent("adopt", "Adopted", uuid)) << AgentLog();
  EXPECT_TRUE(Contains(AgentLog(), "answers again"));
  std::vector<Attempt> attempts = Attempts("adopt");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].uuid(), uuid);
  EXPECT_EQ(attempts[0].pod.state(), v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(UnitProperty(uuid, "InvocationID"), invocation) << "the unit was restarted";
  EXPECT_EQ(UnitProperty(uuid, "MainPID"), main_pid);
  EXPECT_FALSE(HasEvent("adopt", "Killing"));
}

TEST_F(NodeTest, FailingLivenessProbeRestartsThePod) {
  // Healthy for two seconds, then not.
  WriteManifest("live.yaml",
                PodYaml("live", Container("live",
                                          std::string("touch /tmp/healthy; sleep 2; rm "
                                                      "/tmp/healthy; ") +
                                              kSleeper,
                                          "    livenessProbe:\n"
                                          "      exec:\n"
                                          "        command: [cat, /tmp/healthy]\n"
                                          "      periodSeconds: 1\n"
                                          "      failureThreshold: 2\n"
                                          "      timeoutSeconds: 10\n")));
  StartAgent();
  std::optional<Attempt> first = WaitRunning("live");
  ASSERT_TRUE(first);
  std::vector<Attempt> attempts;
  ASSERT_TRUE(WaitUntil(
      [&] {
        attempts = Attempts("live");
        return attempts.size() >= 2 && attempts.back().restart_count >= 1;
      },
      60s))
      << AgentLog();
  EXPECT_EQ(attempts.front().uuid(), first->uuid());
  EXPECT_TRUE(WaitEvent("live", "Unhealthy", "Liveness probe failed"));
  EXPECT_TRUE(WaitEvent("live", "Killing", "failed liveness probe"));
}

TEST_F(NodeTest, PostStartAndPreStopHooksRunInOrder) {
  const std::string hooks = dir() + "/host/hooks";
  ASSERT_TRUE(os::MkdirAll(hooks, 0755));
  const std::string spec = fmt::format(
      "  volumes:\n"
      "  - name: hooks\n"
      "    hostPath: {{path: {}, type: Directory}}\n",
      hooks);
  const std::string more =
      "    volumeMounts: [{name: hooks, mountPath: /hooks}]\n"
      "    lifecycle:\n"
      "      postStart:\n"
      "        exec: {command: [/bin/sh, -c, 'echo post >> /hooks/log']}\n"
      "      preStop:\n"
      "        exec: {command: [/bin/sh, -c, 'echo prestop >> /hooks/log']}\n";
  WriteManifest("hooks.yaml", PodYaml("hooks",
                                      Container("hooks",
                                                "trap 'echo term >> /hooks/log; exit 0' TERM; "
                                                "while true; do sleep 0.2; done",
                                                more),
                                      spec));
  StartAgent();
  std::optional<Attempt> running = WaitRunning("hooks");
  ASSERT_TRUE(running);
  ASSERT_TRUE(WaitUntil([&] { return ReadFileOrEmpty(hooks + "/log") == "post\n"; }))
      << ReadFileOrEmpty(hooks + "/log") << AgentLog();
  RemoveManifest("hooks.yaml");
  EXPECT_TRUE(WaitGone("hooks", {running->uuid()})) << AgentLog();
  EXPECT_EQ(ReadFileOrEmpty(hooks + "/log"), "post\nprestop\nterm\n");
}

TEST_F(NodeTest, InitContainersAndAMissingHostPath) {
  const std::string missing = dir() + "/host/does/not/exist";
  ASSERT_FALSE(os::Exists(missing));
  const std::string spec = fmt::format(
      "  initContainers:\n"
      "{}"
      "  volumes:\n"
      "  - name: work\n"
      "    emptyDir: {{}}\n"
      "  - name: host\n"
      "    hostPath: {{path: {}}}\n",
      Container("init", "echo from-init > /work/init.txt",
                "    volumeMounts: [{name: work, mountPath: /work}]\n"),
      missing);
  WriteManifest(
      "init.yaml",
      PodYaml("init",
              Container("app", std::string("cat /work/init.txt > /host/seen; ") + kSleeper,
                        "    volumeMounts: [{name: work, mountPath: /work}, {name: "
                        "host, mountPath: /host}]\n"),
              spec));
  StartAgent();
  ASSERT_TRUE(WaitRunning("init"));
  ASSERT_TRUE(WaitUntil([&] { return ReadFileOrEmpty(missing + "/seen") == "from-init\n"; }))
      << AgentLog();
  struct stat st {};
  ASSERT_EQ(::stat(missing.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(NodeTest, ReadinessProbeFeedsReady) {
  const int port = FreePort();
  const std::string script = fmt::format(
      "mkdir -p /www && echo ok > /www/index.html && sleep 3 && httpd -p 127.0.0.1:{} -h /www "
      "&& trap 'exit 0' TERM && while true; do sleep 0.2; done",
      port);
  WriteManifest("ready.yaml",
                PodYaml("ready",
                        Container("ready", script,
                                  fmt::format("    readinessProbe:\n"
                                              "      httpGet: {{path: /index.html, port: {}}}\n"
                                              "      periodSeconds: 1\n",
                                              port)),
                        "  hostNetwork: true\n"));
  StartAgent();
  std::optional<Attempt> running = WaitRunning("ready");
  ASSERT_TRUE(running);
  auto readiness = [&]() -> std::optional<bool> {
    auto file = comet::node::ReadAgentPodFile(root(), "default", "ready");
    if (!file || file->pod_uuid != running->uuid() || !file->readiness.contains("ready")) {
      return std::nullopt;
    }
    return file->readiness.at("ready");
  };
  EXPECT_TRUE(WaitUntil([&] { return readiness() == std::optional<bool>(false); }, 10s));
  ASSERT_TRUE(WaitUntil([&] { return readiness() == std::optional<bool>(true); }, 30s))
      << AgentLog();
  ProcResult got = CometNode({"get", "pods", "-n", "default"});
  EXPECT_TRUE(std::regex_search(got.out, std::regex(R"(default\s+ready\s+1/1\s+Running)")))
      << got.Describe();
}

// A container the supervisor restarts inside the pod starts its probes over, as a new container
// does under the kubelet: its startup probe runs again, and it is not ready (it was) until its
// readiness probe passes again. The test drives the runs through files in a hostPath: the first
// run serves until told to exit 1; the second serves only when told to, which its old readiness
// worker (failureThreshold 10) alone would not notice in time.
TEST_F(NodeTest, ContainerRestartedInsideThePodStartsItsProbesOver) {
  const int port = FreePort();
  const std::string state = dir() + "/host/again";
  ASSERT_TRUE(os::MkdirAll(state, 0755));
  const std::string httpd = fmt::format("httpd -p 127.0.0.1:{} -h /www", port);
  const std::string script = fmt::format(
      "trap 'exit 0' TERM; mkdir -p /www && echo ok > /www/index.html; "
      "if [ -e /state/ran ]; then while [ ! -e /state/serve ]; do sleep 0.2; done; {} && "
      "while true; do sleep 0.2; done; fi; "
      "touch /state/ran && {} && while [ ! -e /state/exit ]; do sleep 0.2; done; exit 1",
      httpd, httpd);
  const std::string probe = fmt::format("      httpGet: {{path: /index.html, port: {}}}\n", port);
  WriteManifest("again.yaml", PodYaml("again",
                                      Container("again", script,
                                                "    volumeMounts:\n"
                                                "    - {name: state, mountPath: /state}\n"
                                                "    startupProbe:\n" +
                                                    probe +
                                                    "      periodSeconds: 1\n"
                                                    "      failureThreshold: 30\n"
                                                    "    readinessProbe:\n" +
                                                    probe +
                                                    "      periodSeconds: 1\n"
                                                    "      failureThreshold: 10\n"),
                                      fmt::format("  hostNetwork: true\n"
                                                  "  volumes:\n"
                                                  "  - name: state\n"
                                                  "    hostPath: {{path: {}, type: Directory}}\n",
                                                  state)));
  StartAgent();
  std::optional<Attempt> running = WaitRunning("again");
  ASSERT_TRUE(running) << AgentLog();
  auto readiness = [&]() -> std::optional<bool> {
    auto file = comet::node::ReadAgentPodFile(root(), "default", "again");
    if (!file || file->pod_uuid != running->uuid() || !file->readiness.contains("again")) {
      return std::nullopt;
    }
    return file->readiness.at("again");
  };
  auto runs = [&] { return RunStarts(AppStatusJson(running->uuid(), "again")).size(); };
  ASSERT_TRUE(WaitUntil([&] { return readiness() == std::optional<bool>(true); }, 30s))
      << AgentLog();
  ASSERT_EQ(runs(), 1U);
  ASSERT_TRUE(os::WriteFile(state + "/exit", "", 0644));
  ASSERT_TRUE(WaitUntil([&] { return runs() >= 2; }, 30s)) << AgentLog();
  EXPECT_TRUE(WaitUntil([&] { return readiness() == std::optional<bool>(false); }, 5s))
      << "the restarted container is not ready before its probe passes\n"
      << AgentLog();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(readiness(), std::optional<bool>(false)) << "nothing serves yet\n" << AgentLog();
  ASSERT_TRUE(os::WriteFile(state + "/serve", "", 0644));
  EXPECT_TRUE(WaitUntil([&] { return readiness() == std::optional<bool>(true); }, 30s))
      << AgentLog();
  const std::string log = AgentLog();
  EXPECT_TRUE(Contains(log, "container again restarted: its probes start over")) << log;
  size_t startups = 0;
  for (size_t at = log.find("container again started (startup probe)"); at != std::string::npos;
       at = log.find("container again started (startup probe)", at + 1)) {
    ++startups;
  }
  EXPECT_EQ(startups, 2U) << "the startup probe runs again for the second run\n" << log;
  EXPECT_EQ(Attempts("again").size(), 1U) << "restarted inside the pod, not a new pod";
}

TEST_F(NodeTest, DirectSupervisionWithoutSystemd) {
  WriteManifest("direct.yaml", PodYaml("direct", Container("direct", kSleeper)));
  StartAgent({"--pod-supervision=direct"});
  std::optional<Attempt> running = WaitRunning("direct");
  ASSERT_TRUE(running) << AgentLog();
  EXPECT_TRUE(Contains(AgentLog(), "pods run as detached comet pods")) << AgentLog();
  EXPECT_TRUE(UnitFile(running->uuid()).empty()) << "no unit in direct mode";
  EXPECT_TRUE(WaitEvent("direct", "Started", "detached"));
  RemoveManifest("direct.yaml");
  EXPECT_TRUE(WaitGone("direct", {})) << AgentLog();
}

TEST_F(NodeTest, HelpAndBadFlags) {
  ProcResult help = Exec({pod::CometBinary(), "node", "--help"},
                         ProcOptions{.env = {"COMET_NODE=" + NodeBinary()}});
  EXPECT_TRUE(help.ok()) << help.Describe();
  EXPECT_TRUE(Contains(help.out, "--pod-manifest-path")) << help.out;
  EXPECT_TRUE(Contains(help.out, "--rkt-api-endpoint")) << help.out;
  ProcResult docker = Exec({NodeBinary(), "--container-runtime=docker", "--pod-manifest-path=/x"});
  EXPECT_EQ(docker.exit_code, 254);
  EXPECT_TRUE(Contains(docker.err, "only rkt")) << docker.Describe();
}

}  // namespace
}  // namespace comet::e2e::node
