// NodeTest (see node_fixture.h).
#include "e2e/node/node_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/to_comet.h"
#include "node/event_recorder.h"
#include "node/unit_file.h"
#include "os/file.h"

namespace comet::e2e::node {

namespace fs = std::filesystem;

namespace {

// The suite's state: made by SetUpTestSuite, gone with TearDownTestSuite.
struct Suite {
  std::unique_ptr<os::TempDir> dir;
  std::unique_ptr<testing::SystemdInstance> instance;
  std::unique_ptr<Background> api;
  std::string api_address;
  int api_runs = 0;
  std::string setup_error;  // why the suite cannot run
};
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the suite's one state
std::unique_ptr<Suite> g_suite;

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): tests, one thread
  return value != nullptr && *value != '\0' ? value : fallback;
}

// The address in the api-service's "listening on 127.0.0.1:PORT (data directory ...)" line.
std::string ListeningAddress(const std::string& output) {
  const size_t at = output.find("listening on ");
  if (at == std::string::npos) {
    return "";
  }
  const size_t start = at + std::string("listening on ").size();
  return output.substr(start, output.find_first_of(", \n", start) - start);
}

}  // namespace

const std::string& NodeBinary() {
  static const std::string kBinary = EnvOr("COMET_NODE", COMET_NODE_DEFAULT);
  return kBinary;
}

const std::string& ApiServiceBinary() {
  static const std::string kBinary = EnvOr("COMET_API_SERVICE", COMET_API_SERVICE_DEFAULT);
  return kBinary;
}

const std::string& NodeTest::dir() {
  return g_suite->dir->path();
}

testing::SystemdInstance& NodeTest::instance() {
  return *g_suite->instance;
}

const std::string& NodeTest::api_address() {
  return g_suite->api_address;
}

Background& NodeTest::api_service() {
  return *g_suite->api;
}

void NodeTest::SetUpTestSuite() {
  g_suite = std::make_unique<Suite>();
  if (::geteuid() != 0) {
    g_suite->setup_error = "needs root (it boots systemd and runs pods)";
    return;
  }
  auto temp = os::TempDir::Create("comet-node-e2e-");
  if (!temp) {
    g_suite->setup_error = temp.error().ToString();
    return;
  }
  g_suite->dir = std::make_unique<os::TempDir>(std::move(*temp));
  ::chmod(g_suite->dir->path().c_str(), 0755);
  for (const std::string& sub : {data(), root(), manifests(), dir() + "/host"}) {
    if (Status made = os::MkdirAll(sub, 0755); !made) {
      g_suite->setup_error = made.error().ToString();
      return;
    }
  }
  // comet's volatile pod directories: the same on both sides (see node_fixture.h). Made the way
  // comet makes it (root's, 0711) when no comet ran on this host yet.
  if (Status made = os::MkdirAll("/run/comet", 0711); !made) {
    g_suite->setup_error = made.error().ToString();
    return;
  }
  g_suite->instance = std::make_unique<testing::SystemdInstance>();
  g_suite->instance->ShareDirectory(dir());
  g_suite->instance->ShareDirectory("/run/comet");
  if (Status booted = g_suite->instance->Boot(); !booted) {
    g_suite->setup_error = booted.error().ToString();
    g_suite->instance.reset();
    return;
  }
  // The supervisors' restart back-off, scaled down for the tests (their test hook), for every
  // unit the instance starts.
  auto env = g_suite->instance->RunInside(
      {"systemctl", "set-environment", "COMET_BACKOFF_BASE_MS=500", "COMET_BACKOFF_MAX_MS=4000"});
  if (!env || env->exit_code != 0) {
    g_suite->setup_error = "systemctl set-environment failed";
    return;
  }
  ProcResult imported =
      Comet({"image", "import", "--format", "rootfs", "--name", kImage, pod::BusyboxTarball()});
  if (!imported.ok()) {
    g_suite->setup_error = "importing busybox: " + imported.Describe();
    return;
  }
  StartApiService();
  if (g_suite->api_address.empty()) {
    g_suite->setup_error = "comet-api-service did not start: " + g_suite->api->Output();
  }
}

void NodeTest::TearDownTestSuite() {
  if (g_suite == nullptr) {
    return;
  }
  if (g_suite->instance && g_suite->instance->running()) {
    // What a failed test left: stopped in order (the supervisors clean up), then removed.
    (void)g_suite->instance->RunInside({"systemctl", "stop", "k8s_*.service"}, 60s);
  }
  if (g_suite->dir) {
    for (int round = 0; round < 2; ++round) {
      (void)Comet({"gc", "--grace-period=0s"});
    }
    std::error_code ec;
    for (const char* phase : {"prepared", "exited-garbage", "garbage", "run"}) {
      for (const auto& entry : fs::directory_iterator(data() + "/pods/" + phase, ec)) {
        (void)Comet({"rm", entry.path().filename().string()});
      }
    }
  }
  if (g_suite->instance) {
    EXPECT_TRUE(g_suite->instance->Stop());
  }
  g_suite->api.reset();
  g_suite.reset();
}

void NodeTest::SetUp() {
  if (!g_suite->setup_error.empty()) {
    if (g_suite->setup_error.rfind("needs root", 0) == 0) {
      GTEST_SKIP() << g_suite->setup_error;
    }
    FAIL() << "suite setup: " << g_suite->setup_error;
  }
}

void NodeTest::TearDown() {
  if (g_suite->dir == nullptr) {
    return;
  }
  // Every pod a test left goes with its manifest, through the agent.
  std::error_code ec;
  bool left = false;
  for (const auto& entry : fs::directory_iterator(manifests(), ec)) {
    fs::remove(entry.path(), ec);
    left = true;
  }
  if (left && agent_ && agent_->Running()) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto api = comet::node::ApiClient::Connect(api_address());
          auto pods =
              api ? api->ListPods() : Result<std::vector<v1alpha::Pod>>(Err(Error(EIO, "")));
          return pods && comet::node::GroupAttempts(*pods).empty();
        },
        60s))
        << "the agent did not remove the pods of the manifests left";
  }
  if (agent_) {
    StopAgent();
  }
  if (HasFailure() || !EnvOr("COMET_NODE_E2E_VERBOSE", "").empty()) {
    (void)std::fprintf(stderr, "---- agent log ----\n%s\n", AgentLog().c_str());
  }
}

std::vector<std::string> NodeTest::AgentArgs() {
  return {NodeBinary(),
          "--rkt-path=" + pod::CometBinary(),
          "--rkt-api-endpoint=" + api_address(),
          "--pod-manifest-path=" + manifests(),
          "--sync-frequency=1s",
          "--root-dir=" + root(),
          "--dir=" + data(),
          "--unit-dir=" + instance().UnitDir(),
          "--systemd-bus=" + instance().BusAddress(),
          "--net=none",
          "--debug"};
}

void NodeTest::StartAgent(const std::vector<std::string>& extra) {
  std::vector<std::string> args = AgentArgs();
  args.insert(args.end(), extra.begin(), extra.end());
  ++agent_runs_;
  agent_ = std::make_unique<Background>(
      args, std::vector<std::string>{"COMET_BACKOFF_BASE_MS=500", "COMET_BACKOFF_MAX_MS=4000"},
      fmt::format("{}/agent-{}-{}.log", root(),
                  ::testing::UnitTest::GetInstance()->current_test_info()->name(), agent_runs_));
}

std::string NodeTest::AgentLog() const {
  std::string log;
  if (agent_) {
    log = agent_->Output();
  }
  return log.size() > 20000 ? "..." + log.substr(log.size() - 20000) : log;
}

int NodeTest::StopAgent() {
  if (!agent_ || !agent_->Running()) {
    return agent_ ? agent_->Wait(0ms) : -1;
  }
  ::kill(agent_->pid(), SIGTERM);
  int code = agent_->Wait(30s);
  EXPECT_NE(code, kStillRunning) << "comet-node did not stop on SIGTERM";
  return code;
}

void NodeTest::StartApiService() {
  const std::string listen = g_suite->api_address.empty() ? "127.0.0.1:0" : g_suite->api_address;
  ++g_suite->api_runs;
  g_suite->api = std::make_unique<Background>(
      std::vector<std::string>{ApiServiceBinary(), "--dir=" + data(), "--listen=" + listen},
      std::vector<std::string>{}, fmt::format("{}/api-{}.log", root(), g_suite->api_runs));
  std::string address;
  WaitUntil(
      [&] {
        address = ListeningAddress(g_suite->api->Output());
        return !address.empty() || !g_suite->api->Running();
      },
      30s);
  if (!address.empty()) {
    g_suite->api_address = address;
  }
}

void NodeTest::WriteManifest(const std::string& name, const std::string& yaml) {
  const std::string temp = manifests() + "/." + name + ".tmp";
  WriteFileOrDie(temp, yaml);
  ASSERT_EQ(::rename(temp.c_str(), (manifests() + "/" + name).c_str()), 0);
}

void NodeTest::RemoveManifest(const std::string& name) {
  ASSERT_EQ(::unlink((manifests() + "/" + name).c_str()), 0) << name;
}

std::vector<Attempt> NodeTest::Attempts(const std::string& name) {
  auto api = comet::node::ApiClient::Connect(api_address());
  if (!api) {
    return {};
  }
  comet::node::PodQuery query;
  query.annotations[kube::kManagedByAnnotation] = "true";
  auto pods = api->ListPods(query);
  if (!pods) {
    return {};
  }
  auto groups = comet::node::GroupAttempts(*pods);
  auto it = groups.find("default/" + name);
  return it == groups.end() ? std::vector<Attempt>{} : it->second;
}

std::optional<Attempt> NodeTest::WaitRunning(const std::string& name,
                                             std::chrono::milliseconds timeout) {
  std::optional<Attempt> found;
  WaitUntil(
      [&] {
        std::vector<Attempt> attempts = Attempts(name);
        if (!attempts.empty() && attempts.back().pod.state() == v1alpha::POD_STATE_RUNNING) {
          found = attempts.back();
          return true;
        }
        return false;
      },
      timeout);
  return found;
}

bool NodeTest::WaitGone(const std::string& name, const std::vector<std::string>& uuids,
                        std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        if (!Attempts(name).empty()) {
          return false;
        }
        return std::all_of(uuids.begin(), uuids.end(),
                           [](const std::string& uuid) { return UnitFile(uuid).empty(); });
      },
      timeout);
}

std::string NodeTest::Systemctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"systemctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = instance().RunInside(argv);
  return result ? std::string(TrimSpace(result->stdout_data)) : "";
}

std::string NodeTest::UnitProperty(const std::string& uuid, const std::string& property) {
  return Systemctl({"show", "-p", property, "--value", comet::node::UnitName(uuid)});
}

std::string NodeTest::UnitFile(const std::string& uuid) {
  return ReadFileOrEmpty(instance().UnitDir() + "/" + comet::node::UnitName(uuid));
}

std::vector<comet::node::Event> NodeTest::Events(const std::string& name) {
  auto events = comet::node::ReadEvents(root() + "/events", "default", name);
  return events ? *events : std::vector<comet::node::Event>{};
}

bool NodeTest::HasEvent(const std::string& name, const std::string& reason,
                        const std::string& text) {
  const std::vector<comet::node::Event> events = Events(name);
  return std::ranges::any_of(events, [&](const comet::node::Event& event) {
    return event.reason == reason && event.message.find(text) != std::string::npos;
  });
}

bool NodeTest::WaitEvent(const std::string& name, const std::string& reason,
                         const std::string& text) {
  return WaitUntil([&] { return HasEvent(name, reason, text); }, 10s);
}

std::string NodeTest::AppStatusJson(const std::string& uuid, const std::string& app) {
  for (const char* phase : {"run", "exited-garbage", "garbage"}) {
    std::string text = ReadFileOrEmpty(
        fmt::format("{}/pods/{}/{}/state/apps/{}/status.json", data(), phase, uuid, app));
    if (!text.empty()) {
      return text;
    }
  }
  return "";
}

ProcResult NodeTest::Comet(std::vector<std::string> args, const ProcOptions& options) {
  args.insert(args.begin(), {pod::CometBinary(), "--dir=" + data()});
  return Exec(args, options);
}

ProcResult NodeTest::CometNode(std::vector<std::string> args) {
  args.insert(args.begin(), {pod::CometBinary(), "node"});
  args.push_back("--rkt-api-endpoint=" + api_address());
  args.push_back("--root-dir=" + root());
  return Exec(args, ProcOptions{.env = {"COMET_NODE=" + NodeBinary()}});
}

bool NodeTest::WaitUntil(const std::function<bool()>& condition,
                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
}

std::string NodeTest::PodYaml(const std::string& name, const std::string& containers,
                              const std::string& extra_spec) {
  return fmt::format(
      "apiVersion: v1\n"
      "kind: Pod\n"
      "metadata:\n"
      "  name: {}\n"
      "spec:\n"
      "  terminationGracePeriodSeconds: 5\n"
      "{}"
      "  containers:\n"
      "{}",
      name, extra_spec, containers);
}

}  // namespace comet::e2e::node
