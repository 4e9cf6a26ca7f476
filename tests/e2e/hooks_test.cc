// End-to-end: OCI hooks. Each hook appends "<name> <state JSON from stdin>" to a log; the test
// checks their order, the state they were given, and that poststop runs at delete.
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "e2e/fixture.h"
#include "e2e/hook_log.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using Hooks = PrivilegedRuntimeTest;

TEST_F(Hooks, AllHooksInOrderWithState) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string log_dir = bundle.scratch() + "/hooklog";
  fs::create_directories(log_dir);
  const std::string log = log_dir + "/log";
  bundle.AddMount(HookLogMount(log_dir));
  bundle.config()["hooks"] = AllLoggingHooks(log);
  bundle.config()["annotations"] = {{"org.example.key", "value"}};
  bundle.Write();
  const std::string id = NewId();

  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  auto calls = ReadHookLog(log);
  // Deviations of the peers, checked for comet-runtime only: both report "created" during
  // create, runc runs poststart at create with status "created", crun gives createContainer
  // pid 0 and startContainer status "starting" with bundle "/".
  const bool peer = RuntimeName() == "crun" || RuntimeName() == "runc";
  if (RuntimeName() != "runc") {
    ASSERT_EQ(calls.size(), 3U) << HookNames(calls);
  }
  EXPECT_TRUE(HookNames(calls).rfind("prestart,createRuntime,createContainer", 0) == 0 ||
              HookNames(calls).rfind("createRuntime,prestart,createContainer", 0) == 0)
      << HookNames(calls);
  const int pid = State(id)["pid"].get<int>();
  for (size_t i = 0; i < 3 && i < calls.size(); ++i) {
    const HookCall& call = calls[i];
    EXPECT_EQ(call.state["id"], id) << call.name;
    EXPECT_EQ(call.state["bundle"], bundle.dir()) << call.name;
    EXPECT_EQ(call.state["annotations"]["org.example.key"], "value") << call.name;
    if (!peer || call.name != "createContainer") {
      EXPECT_EQ(call.state["pid"], pid) << call.name;
    }
    if (!peer) {
      EXPECT_EQ(call.state["status"], "creating") << call.name;
    }
  }

  ASSERT_TRUE(Runtime({"start", id}).ok());
  // startContainer runs in the container, just before the process; give it time to land.
  for (int i = 0; i < 250 && ReadHookLog(log).size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  calls = ReadHookLog(log);
  ASSERT_EQ(calls.size(), 5U) << HookNames(calls);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& call : calls) {
    by_name[call.name] = call.state;
  }
  ASSERT_TRUE(by_name.contains("startContainer") && by_name.contains("poststart"))
      << HookNames(calls);
  EXPECT_EQ(by_name["startContainer"]["id"], id);
  EXPECT_EQ(by_name["poststart"]["id"], id);
  EXPECT_EQ(by_name["poststart"]["pid"], pid);
  if (!peer) {
    EXPECT_EQ(HookNames(calls).substr(HookNames(calls).rfind("createContainer")),
              "createContainer,startContainer,poststart");
    EXPECT_EQ(by_name["startContainer"]["status"], "created") << "before the process runs";
    EXPECT_EQ(by_name["startContainer"]["bundle"], bundle.dir());
    EXPECT_EQ(by_name["poststart"]["status"], "running");
  }

  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_EQ(ReadHookLog(log).size(), 5U) << "poststop runs at delete, not at exit";
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  calls = ReadHookLog(log);
  ASSERT_EQ(calls.size(), 6U) << HookNames(calls);
  EXPECT_EQ(calls[5].name, "poststop");
  EXPECT_EQ(calls[5].state["status"], "stopped");
  EXPECT_EQ(calls[5].state["id"], id);
  ExpectNothingLeft(id, bundle);
}

TEST_F(Hooks, FailingPrestartHookAbortsCreate) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  bundle.config()["hooks"] = {
      {"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}}}};
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = "/comet-" + id;
  bundle.Write();
  ProcResult r = Create(bundle, id);
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  ExpectNothingLeft(id, bundle, "/comet-" + id);
}

TEST_F(Hooks, HookTimeoutIsEnforced) {
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.config()["hooks"] = {
      {"createRuntime", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  bundle.Write();
  const std::string id = NewId();
  auto start = std::chrono::steady_clock::now();
  ProcResult r = Create(bundle, id);
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  ExpectNothingLeft(id, bundle);
}

}  // namespace
}  // namespace comet::e2e
