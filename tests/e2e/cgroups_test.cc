// End-to-end: cgroupsPath and linux.resources on this machine's cgroups (v1 hybrid: memory,
// pids, cpu, cpuset, devices), the memory OOM kill, `update`, `pause`/`resume`, `ps`.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;

class Cgroups : public PrivilegedRuntimeTest {
 protected:
  void SetUp() override {
    PrivilegedRuntimeTest::SetUp();
    if (!fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      GTEST_SKIP() << "these tests read cgroup v1 files (this machine's layout)";
    }
  }
  static std::string CgroupPath(const std::string& id) { return "/comet-" + id; }
  static std::string V1File(const std::string& controller, const std::string& id,
                            const std::string& file) {
    std::string value =
        ReadFileOrEmpty("/sys/fs/cgroup/" + controller + CgroupPath(id) + "/" + file);
    while (!value.empty() && value.back() == '\n') {
      value.pop_back();
    }
    return value;
  }
  // Creates and starts `bundle` under CgroupPath(id).
  void StartIn(Bundle& bundle, const std::string& id) {
    bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
    bundle.Write();
    ProcResult created = Create(bundle, id);
    ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
    ProcResult started = Runtime({"start", id});
    ASSERT_TRUE(started.ok()) << started.Describe();
  }
  void DeleteAndCheck(Bundle& bundle, const std::string& id) {
    EXPECT_TRUE(Runtime({"delete", "--force", id}).ok());
    ExpectNothingLeft(id, bundle, CgroupPath(id));
  }
};

TEST_F(Cgroups, ResourcesAreWritten) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  bundle.linux_section()["resources"]["memory"] = {{"limit", 64 << 20}};
  bundle.linux_section()["resources"]["pids"] = {{"limit", 50}};
  bundle.linux_section()["resources"]["cpu"] = {
      {"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}, {"mems", "0"}};
  const std::string id = NewId();
  StartIn(bundle, id);
  EXPECT_EQ(V1File("memory", id, "memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(V1File("pids", id, "pids.max"), "50");
  EXPECT_EQ(V1File("cpu", id, "cpu.shares"), "512");
  EXPECT_EQ(V1File("cpu", id, "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(V1File("cpu", id, "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(V1File("cpuset", id, "cpuset.cpus"), "0");
  const std::string pid = std::to_string(State(id)["pid"].get<int>());
  EXPECT_NE(("\n" + V1File("memory", id, "cgroup.procs") + "\n").find("\n" + pid + "\n"),
            std::string::npos)
      << "the container process is in the group";
  DeleteAndCheck(bundle, id);
}

TEST_F(Cgroups, CheckerSeesLimits) {
  Bundle& bundle = NewBundle({"/bin/checker", "cgroup"});
  bundle.linux_section()["resources"]["memory"] = {{"limit", 48 << 20}};
  bundle.linux_section()["resources"]["pids"] = {{"limit", 40}};
  bundle.AddMount({{"destination", "/sys/fs/cgroup"},
                   {"type", "cgroup"},
                   {"source", "cgroup"},
                   {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
  bundle.Write();
  ProcResult r = Run(bundle, id);
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto kv = ParseKv(r.out);
  EXPECT_EQ(kv["memory.limit_in_bytes"], std::to_string(48 << 20)) << r.out;
  EXPECT_EQ(kv["pids.max"], "40");
  ExpectNothingLeft(id, bundle, CgroupPath(id));
}

// A device created through linux.devices is still denied by the cgroup unless a rule allows it.
TEST_F(Cgroups, DeviceRulesGateLinuxDevices) {
  Bundle& bundle = NewBundle({"/bin/checker", "open", "/dev/fuse"});
  bundle.linux_section()["devices"] = {
      {{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666}}};
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
  EXPECT_EQ(RunChecker(bundle)["errname"], "EPERM") << "denied by the default deny-all rule";
  bundle.linux_section()["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rwm"}});
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK") << "allowed by the rule";
}

// The config's rules come after the runtime's default allow rules, so they can deny a default
// device. (crun and runc append their defaults after the config's rules instead.)
TEST_F(Cgroups, DeviceRuleDeniesDevNull) {
  SKIP_ON_RUNTIME("crun", "it appends its default allow rules after the config's rules");
  SKIP_ON_RUNTIME("runc", "it appends its default allow rules after the config's rules");
  Bundle& bundle = NewBundle({"/bin/checker", "open", "/dev/null"});
  bundle.linux_section()["resources"]["devices"].push_back(
      {{"allow", false}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}});
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
  bundle.Write();
  ProcResult r = Run(bundle, id);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(ParseKv(r.out)["errname"], "EPERM");
  bundle.SetArgs({"/bin/checker", "open", "/dev/zero"});
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK") << "the default allow rules stay";
}

TEST_F(Cgroups, MemoryLimitOomKills) {
  Bundle& bundle = NewBundle({"/bin/checker", "alloc", "256"});
  bundle.linux_section()["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
  bundle.Write();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 137) << "killed by the OOM killer\n" << r.Describe();
  ExpectNothingLeft(id, bundle, CgroupPath(id));
}

TEST_F(Cgroups, PidsLimitIsEnforced) {
  Bundle& bundle =
      NewBundle({"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait"});
  bundle.linux_section()["resources"]["pids"] = {{"limit", 4}};
  const std::string id = NewId();
  bundle.linux_section()["cgroupsPath"] = CgroupPath(id);
  bundle.Write();
  ProcResult r = Run(bundle, id, {}, {.timeout = std::chrono::seconds(30)});
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.Describe();
  ExpectNothingLeft(id, bundle, CgroupPath(id));
}

TEST_F(Cgroups, UpdateChangesLimits) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  bundle.linux_section()["resources"]["memory"] = {{"limit", 64 << 20}};
  bundle.linux_section()["resources"]["pids"] = {{"limit", 50}};
  const std::string id = NewId();
  StartIn(bundle, id);
  const std::string resources = work_dir() + "/resources.json";
  WriteFileOrDie(resources, R"({"memory": {"limit": 134217728}, "pids": {"limit": 60}})");
  ProcResult r = Runtime({"update", "--resources", resources, id});
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(V1File("memory", id, "memory.limit_in_bytes"), "134217728");
  EXPECT_EQ(V1File("pids", id, "pids.max"), "60");
  r = Runtime({"update", "--memory", "100663296", id});
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(V1File("memory", id, "memory.limit_in_bytes"), "100663296");
  DeleteAndCheck(bundle, id);
}

TEST_F(Cgroups, PauseFreezesAndResumeThaws) {
  Bundle& bundle = NewBundle({"/bin/checker", "counter", "/tmp/count"});
  const std::string id = NewId();
  StartIn(bundle, id);
  const std::string count_file = bundle.rootfs() + "/tmp/count";
  for (int i = 0; i < 250 && ReadFileOrEmpty(count_file).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(Runtime({"pause", id}).ok());
  EXPECT_EQ(State(id)["status"], "paused");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string frozen = ReadFileOrEmpty(count_file);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(ReadFileOrEmpty(count_file), frozen) << "the process ran while paused";
  EXPECT_FALSE(frozen.empty());
  ASSERT_TRUE(Runtime({"resume", id}).ok());
  EXPECT_EQ(State(id)["status"], "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_NE(ReadFileOrEmpty(count_file), frozen) << "the process did not resume";
  DeleteAndCheck(bundle, id);
}

TEST_F(Cgroups, PsListsContainerProcesses) {
  Bundle& bundle = NewBundle({"/bin/sh", "-c", "sleep 100 & exec /bin/checker sleep 100"});
  const std::string id = NewId();
  StartIn(bundle, id);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int pid = State(id)["pid"].get<int>();
  ProcResult json_ps = Runtime({"ps", "--format", "json", id});
  ASSERT_TRUE(json_ps.ok()) << json_ps.Describe();
  auto pids = nlohmann::json::parse(json_ps.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << json_ps.out;
  EXPECT_EQ(pids.size(), 2U) << json_ps.out;
  EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end()) << json_ps.out;
  ProcResult table = Runtime({"ps", id});
  ASSERT_TRUE(table.ok()) << table.Describe();
  EXPECT_NE(table.out.find("PID"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(std::to_string(pid)), std::string::npos) << table.out;
  DeleteAndCheck(bundle, id);
}

}  // namespace
}  // namespace comet::e2e
