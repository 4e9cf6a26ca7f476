// End-to-end: the commands that report rather than run: list (table, json, -q), features,
// spec (plain and --rootless), kill by signal name and number.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using Cli = PrivilegedRuntimeTest;

TEST_F(Cli, ListTableAndJson) {
  ProcResult empty = Runtime({"list"});
  ASSERT_TRUE(empty.ok()) << empty.Describe();
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  const int pid = State(id)["pid"].get<int>();

  ProcResult table = Runtime({"list"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  EXPECT_TRUE(table.out.rfind("ID", 0) == 0 || table.out.rfind("NAME", 0) == 0)
      << "a header first:\n"
      << table.out;
  EXPECT_NE(table.out.find("STATUS"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(id), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("created"), std::string::npos) << table.out;

  ProcResult json_list = Runtime({"list", "--format", "json"});
  ASSERT_TRUE(json_list.ok()) << json_list.Describe();
  auto list = nlohmann::json::parse(json_list.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << json_list.out;
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["pid"], pid);
  EXPECT_EQ(list[0]["status"], "created");
  EXPECT_EQ(list[0]["bundle"], bundle.dir());

  ProcResult quiet = Runtime({"list", "-q"});
  EXPECT_EQ(quiet.out, id + "\n");
}

TEST_F(Cli, FeaturesIsJson) {
  SKIP_ON_RUNTIME("crun", "crun 1.8 has no features command");
  ProcResult r = Runtime({"features"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto features = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(features.is_object()) << r.out;
  EXPECT_TRUE(features.contains("ociVersionMin"));
  EXPECT_TRUE(features.contains("ociVersionMax"));
  ASSERT_TRUE(features["hooks"].is_array());
  EXPECT_NE(std::find(features["hooks"].begin(), features["hooks"].end(), "poststop"),
            features["hooks"].end());
  ASSERT_TRUE(features["linux"]["namespaces"].is_array());
  EXPECT_GE(features["linux"]["namespaces"].size(), 7U);
  EXPECT_TRUE(features["mountOptions"].is_array());
}

TEST_F(Cli, SpecWritesConfig) {
  const std::string dir = work_dir() + "/spec";
  fs::create_directories(dir);
  ProcResult r = Runtime({"spec", "--bundle", dir});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto config = nlohmann::json::parse(ReadFileOrEmpty(dir + "/config.json"), nullptr, false);
  ASSERT_TRUE(config.is_object());
  EXPECT_TRUE(config.contains("ociVersion"));
  EXPECT_EQ(config["root"]["path"], "rootfs");
  EXPECT_TRUE(config["process"]["args"].is_array());
  bool has_pid_ns = false;
  for (const auto& ns : config["linux"]["namespaces"]) {
    has_pid_ns = has_pid_ns || ns["type"] == "pid";
  }
  EXPECT_TRUE(has_pid_ns);
  EXPECT_NE(Runtime({"spec", "--bundle", dir}).exit_code, 0) << "an existing config is kept";

  const std::string rootless = work_dir() + "/spec-rootless";
  fs::create_directories(rootless);
  ASSERT_TRUE(Runtime({"spec", "--rootless", "--bundle", rootless}).ok());
  auto rl = nlohmann::json::parse(ReadFileOrEmpty(rootless + "/config.json"), nullptr, false);
  ASSERT_TRUE(rl.is_object());
  bool has_user_ns = false;
  for (const auto& ns : rl["linux"]["namespaces"]) {
    has_user_ns = has_user_ns || ns["type"] == "user";
  }
  EXPECT_TRUE(has_user_ns);
}

TEST_F(Cli, SpecOutputRunsAfterRootfsIsAdded) {
  Bundle& bundle = NewBundle({"/bin/true"});
  fs::remove(bundle.dir() + "/config.json");
  ASSERT_TRUE(Runtime({"spec", "--bundle", bundle.dir()}).ok());
  auto config = nlohmann::json::parse(ReadFileOrEmpty(bundle.dir() + "/config.json"));
  config["process"]["terminal"] = false;
  config["process"]["args"] = {"/bin/echo", "spec ok"};
  WriteFileOrDie(bundle.dir() + "/config.json", config.dump());
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.out, "spec ok\n") << r.Describe();
  ExpectNothingLeft(id, bundle);
}

TEST_F(Cli, KillBySignalNameAndNumber) {
  Bundle& bundle = NewBundle({"/bin/sh", "-c",
                              "trap 'echo got-term; exit 3' TERM; "
                              "while true; do sleep 0.05; done"});
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ASSERT_TRUE(Runtime({"start", id}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(Runtime({"kill", id, "SIGTERM"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_NE(OutputOf(id).find("got-term"), std::string::npos) << OutputOf(id);
  ASSERT_TRUE(Runtime({"delete", id}).ok());

  const std::string id2 = NewId();
  ASSERT_TRUE(Create(bundle, id2).ok());
  ASSERT_TRUE(Runtime({"start", id2}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(Runtime({"kill", id2, "15"}).ok());
  EXPECT_EQ(WaitForStatus(id2, "stopped")["status"], "stopped");
  EXPECT_NE(Runtime({"kill", id2, "NOSUCHSIGNAL"}).exit_code, 0);
}

TEST_F(Cli, GlobalLogInJson) {
  Bundle& bundle = NewBundle({"/no/such/binary"});
  const std::string log = work_dir() + "/runtime.log";
  const std::string id = NewId();
  ProcResult r =
      Runtime({"--log", log, "--log-format", "json", "run", "--bundle", bundle.dir(), id});
  EXPECT_NE(r.exit_code, 0);
  const std::string text = ReadFileOrEmpty(log);
  ASSERT_FALSE(text.empty()) << "the error goes to --log";
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    auto entry = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(entry.is_object()) << "not a JSON object: " << line;
  }
  Runtime({"delete", "--force", id});
}

TEST_F(Cli, NoPivotAndNoNewKeyring) {
  Bundle& bundle = NewBundle({"/bin/checker", "pid"});
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id, {"--no-pivot", "--no-new-keyring"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ParseKv(r.out)["pid"], "1");
  ExpectNothingLeft(id, bundle);
}

}  // namespace
}  // namespace comet::e2e
