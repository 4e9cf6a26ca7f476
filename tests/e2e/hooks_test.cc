// End-to-end: OCI hooks. Each hook appends "<name> <state JSON from stdin>" to a log; the test
// checks their order, the state they were given, and that poststop runs at delete.
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using Hooks = PrivilegedRuntimeTest;

struct HookCall {
  std::string name;
  nlohmann::json state;
};

// startContainer runs inside the container, where the log dir is bound at /hooklog; the others
// run with the host's view (createContainer before pivot_root), so they use the host path.
nlohmann::json Hook(const std::string& name, const std::string& host_log) {
  // One printf, so one O_APPEND write: hooks of the container and of the host may run at once.
  std::string script = "L=" + host_log +
                       "; [ -d /hooklog ] && L=/hooklog/log; S=$(tr '\\n' ' '); " +
                       "printf '%s %s\\n' " + name + " \"$S\" >> $L";
  return {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
}

std::vector<HookCall> ReadLog(const std::string& path) {
  std::vector<HookCall> calls;
  std::stringstream lines(ReadFileOrEmpty(path));
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos) {
      continue;
    }
    calls.push_back(
        {line.substr(0, space), nlohmann::json::parse(line.substr(space + 1), nullptr, false)});
  }
  return calls;
}

std::string Names(const std::vector<HookCall>& calls) {
  std::string names;
  for (const auto& c : calls) {
    names += (names.empty() ? "" : ",") + c.name;
  }
  return names;
}

TEST_F(Hooks, AllHooksInOrderWithState) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string log_dir = bundle.scratch() + "/hooklog";
  fs::create_directories(log_dir);
  const std::string log = log_dir + "/log";
  bundle.AddMount(
      {{"destination", "/hooklog"}, {"type", "bind"}, {"source", log_dir}, {"options", {"bind"}}});
  nlohmann::json hooks;
  for (const char* name : {"prestart", "createRuntime", "createContainer", "startContainer",
                           "poststart", "poststop"}) {
    hooks[name] = {Hook(name, log)};
  }
  bundle.config()["hooks"] = hooks;
  bundle.config()["annotations"] = {{"org.example.key", "value"}};
  bundle.Write();
  const std::string id = NewId();

  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  auto calls = ReadLog(log);
  // Deviations of the peers, checked for comet-runtime only: both report "created" during
  // create, runc runs poststart at create with status "created", crun gives createContainer
  // pid 0 and startContainer status "starting" with bundle "/".
  const bool peer = RuntimeName() == "crun" || RuntimeName() == "runc";
  if (RuntimeName() != "runc") {
    ASSERT_EQ(calls.size(), 3U) << Names(calls);
  }
  EXPECT_TRUE(Names(calls).rfind("prestart,createRuntime,createContainer", 0) == 0 ||
              Names(calls).rfind("createRuntime,prestart,createContainer", 0) == 0)
      << Names(calls);
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
  for (int i = 0; i < 250 && ReadLog(log).size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  calls = ReadLog(log);
  ASSERT_EQ(calls.size(), 5U) << Names(calls);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& call : calls) {
    by_name[call.name] = call.state;
  }
  ASSERT_TRUE(by_name.contains("startContainer") && by_name.contains("poststart")) << Names(calls);
  EXPECT_EQ(by_name["startContainer"]["id"], id);
  EXPECT_EQ(by_name["poststart"]["id"], id);
  EXPECT_EQ(by_name["poststart"]["pid"], pid);
  if (!peer) {
    EXPECT_EQ(Names(calls).substr(Names(calls).rfind("createContainer")),
              "createContainer,startContainer,poststart");
    EXPECT_EQ(by_name["startContainer"]["status"], "created") << "before the process runs";
    EXPECT_EQ(by_name["startContainer"]["bundle"], bundle.dir());
    EXPECT_EQ(by_name["poststart"]["status"], "running");
  }

  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_EQ(ReadLog(log).size(), 5U) << "poststop runs at delete, not at exit";
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  calls = ReadLog(log);
  ASSERT_EQ(calls.size(), 6U) << Names(calls);
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
