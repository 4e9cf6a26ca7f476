// SystemdManager against a real systemd: Debian's systemd booted as PID 1 of new namespaces
// (testing::SystemdInstance), driven over its system bus. Pod units are written in the rktnetes
// shape by unit_file.h. Needs root; skips without it, and FAILS when root cannot boot systemd.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/strings.h"
#include "node/systemd_manager.h"
#include "node/unit_file.h"
#include "os/file.h"
#include "testing/in_child.h"
#include "testing/systemd_instance.h"

namespace comet::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string NewUuid() {
  auto uuid = os::ReadFile("/proc/sys/kernel/random/uuid");
  return uuid ? std::string(TrimSpace(*uuid)) : "";
}

// The pid namespace inode of every process on the host that is in `ns`.
std::vector<std::string> ProcessesInPidNamespace(ino_t ns) {
  std::vector<std::string> found;
  std::string want = fmt::format("pid:[{}]", ns);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string pid = entry.path().filename().string();
    if (!ParseInt(pid)) {
      continue;
    }
    std::error_code link_ec;
    auto target = std::filesystem::read_symlink(entry.path() / "ns" / "pid", link_ec);
    if (!link_ec && target.string() == want) {
      found.push_back(pid);
    }
  }
  return found;
}

// Mount table lines of any systemd instance: its tmpfs and overlay are named "comet-systemd",
// its state directory is /tmp/comet-systemd-XXXXXX.
std::vector<std::string> InstanceMounts() {
  std::vector<std::string> out;
  auto mountinfo = os::ReadFile("/proc/self/mountinfo");
  if (!mountinfo) {
    return {"cannot read /proc/self/mountinfo"};
  }
  for (const std::string& line : Split(*mountinfo, '\n')) {
    if (line.find("comet-systemd") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

// A pod unit running `argv`, its ExecStopPost marker in the instance's /run.
PodUnit MakePodUnit(const std::string& uuid, std::vector<std::string> argv) {
  PodUnit unit;
  unit.pod_uuid = uuid;
  unit.exec_start = std::move(argv);
  unit.stop_post_marker = "/run/finished-" + uuid;
  unit.timeout_stop_sec = 5;
  unit.description = "test pod " + uuid;
  unit.syslog_identifier = "test-pod";
  unit.kubernetes = {{"PodUID", uuid},
                     {"PodName", "web-0"},
                     {"PodNamespace", "default"},
                     {"PodHostNetwork", "false"}};
  return unit;
}

// The suite's instance (one for the suite: ctest runs each test in its own process, so that is
// one boot per test there; a whole-binary run boots once).
struct Suite {
  std::unique_ptr<testing::SystemdInstance> instance;
  Status boot = Ok();
};
Suite g_suite;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): gtest's fixture

class SystemdManagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::IsRoot()) {
      return;
    }
    g_suite.instance = std::make_unique<testing::SystemdInstance>();
    g_suite.boot = g_suite.instance->Boot();
    if (g_suite.boot) {
      (void)std::fprintf(stderr, "systemd booted in %lld ms\n",
                         static_cast<long long>(g_suite.instance->boot_time().count()));
    }
  }

  static void TearDownTestSuite() {
    if (g_suite.instance) {
      Status st = g_suite.instance->Stop();
      EXPECT_TRUE(st) << st.error().ToString();
      g_suite.instance.reset();
    }
  }

  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (boots systemd in new namespaces)";
    }
    // Root but no systemd: a failure, not a skip (CI runs as root on a machine like this one).
    ASSERT_TRUE(g_suite.boot) << "cannot boot systemd for the test: "
                              << g_suite.boot.error().ToString();
    instance_ = g_suite.instance.get();
    auto manager = SystemdManager::Connect(instance_->BusAddress());
    ASSERT_TRUE(manager) << manager.error().ToString();
    manager_.emplace(std::move(*manager));
  }

  // Writes the unit into the instance's /run/systemd/system and reloads systemd.
  void Install(const PodUnit& unit) {
    Status st = WriteUnit(instance_->UnitDir(), unit);
    ASSERT_TRUE(st) << st.error().ToString();
    st = manager_->Reload();
    ASSERT_TRUE(st) << st.error().ToString();
  }

  // Polls the unit until its ActiveState is `want` (tests of the state only; the agent reacts
  // to the change signals, tested in SystemctlStopBySomeoneElseIsSeen).
  Result<UnitState> WaitForActiveState(const std::string& name, const std::string& want) {
    Clock::time_point deadline = Clock::now() + seconds(10);
    for (;;) {
      ASSIGN_OR_RETURN(UnitState state, manager_->GetUnitState(name));
      if (state.active_state == want || Clock::now() > deadline) {
        return state;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // The unit's main process as the instance sees it: its /proc/<pid>/comm. With Type=simple
  // systemd reports the unit active right after its fork, while the child still has its
  // parent's name ("systemd") or is "(sleep)" setting itself up: both are waited out (for up to
  // 5 s).
  [[nodiscard]] std::string CommOf(uint32_t pid) const {
    auto deadline = Clock::now() + seconds(5);
    for (;;) {
      auto comm = os::ReadFile(fmt::format("{}/proc/{}/comm", instance_->root(), pid));
      std::string name = comm ? std::string(TrimSpace(*comm)) : "";
      if ((!name.starts_with('(') && name != "systemd") || Clock::now() > deadline) {
        return name;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  testing::SystemdInstance* instance_ = nullptr;
  std::optional<SystemdManager> manager_;
};

TEST_F(SystemdManagerTest, StartAndStopALongRunningPodUnit) {
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  PodUnit unit = MakePodUnit(uuid, {"/bin/sleep", "1000"});
  Install(unit);

  Status st = manager_->StartUnit(name);
  ASSERT_TRUE(st) << st.error().ToString();
  auto running = manager_->GetUnitState(name);
  ASSERT_TRUE(running) << running.error().ToString();
  EXPECT_EQ(running->load_state, "loaded");
  EXPECT_EQ(running->active_state, "active");
  EXPECT_EQ(running->sub_state, "running");
  ASSERT_GT(running->main_pid, 0U);
  EXPECT_EQ(CommOf(running->main_pid), "sleep") << "MainPID " << running->main_pid;
  EXPECT_EQ(running->invocation_id.size(), 32U);
  EXPECT_GT(running->active_enter.time_since_epoch().count(), 0);
  auto active = instance_->RunInside({"systemctl", "is-active", name});
  ASSERT_TRUE(active) << active.error().ToString();
  EXPECT_EQ(active->stdout_data, "active\n");

  auto listed = manager_->ListUnits("k8s_*.service");
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_NE(std::ranges::find(*listed, name), listed->end());
  auto none = manager_->ListUnits("k8s_none-*.service");
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());

  st = manager_->StopUnit(name);
  ASSERT_TRUE(st) << st.error().ToString();
  auto stopped = manager_->GetUnitState(name);
  ASSERT_TRUE(stopped) << stopped.error().ToString();
  EXPECT_EQ(stopped->active_state, "inactive");
  EXPECT_EQ(stopped->sub_state, "dead");
  EXPECT_EQ(stopped->main_pid, 0U);
  EXPECT_EQ(stopped->result, "success");
  EXPECT_EQ(CommOf(running->main_pid), "") << "the old main process is gone";
  EXPECT_GE(stopped->inactive_enter, stopped->active_enter);
  EXPECT_TRUE(os::Exists(instance_->root() + unit.stop_post_marker)) << "ExecStopPost ran";
}

TEST_F(SystemdManagerTest, ACommandExitingWith3FailsAndResetFailedClearsIt) {
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  Install(MakePodUnit(uuid, {"/bin/sh", "-c", "exit 3"}));

  // Type=simple: the start job is done once the process runs; then it fails.
  Status st = manager_->StartUnit(name);
  ASSERT_TRUE(st) << st.error().ToString();
  auto failed = WaitForActiveState(name, "failed");
  ASSERT_TRUE(failed) << failed.error().ToString();
  EXPECT_EQ(failed->active_state, "failed");
  EXPECT_EQ(failed->sub_state, "failed");
  EXPECT_EQ(failed->exec_main_code, CLD_EXITED);
  EXPECT_EQ(failed->exec_main_status, 3);
  EXPECT_EQ(failed->result, "exit-code");
  EXPECT_EQ(failed->n_restarts, 0U) << "Restart=no";

  st = manager_->ResetFailedUnit(name);
  ASSERT_TRUE(st) << st.error().ToString();
  auto reset = manager_->GetUnitState(name);
  ASSERT_TRUE(reset) << reset.error().ToString();
  EXPECT_EQ(reset->active_state, "inactive");
  EXPECT_EQ(reset->sub_state, "dead");
}

TEST_F(SystemdManagerTest, RestartGivesANewInvocation) {
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  Install(MakePodUnit(uuid, {"/bin/sleep", "1000"}));
  ASSERT_TRUE(manager_->StartUnit(name));
  auto first = manager_->GetUnitState(name);
  ASSERT_TRUE(first) << first.error().ToString();

  Status st = manager_->RestartUnit(name);
  ASSERT_TRUE(st) << st.error().ToString();
  auto second = manager_->GetUnitState(name);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->active_state, "active");
  EXPECT_EQ(second->invocation_id.size(), 32U);
  EXPECT_NE(second->invocation_id, first->invocation_id);
  EXPECT_NE(second->main_pid, first->main_pid);
  EXPECT_EQ(CommOf(second->main_pid), "sleep");
  EXPECT_TRUE(manager_->StopUnit(name));
}

TEST_F(SystemdManagerTest, SystemctlStopBySomeoneElseIsSeen) {
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  Install(MakePodUnit(uuid, {"/bin/sleep", "1000"}));
  std::set<std::string> changed;
  Status st = manager_->Subscribe([&](const std::string& unit) { changed.insert(unit); });
  ASSERT_TRUE(st) << st.error().ToString();
  ASSERT_TRUE(manager_->StartUnit(name));
  ASSERT_TRUE(manager_->Process());
  EXPECT_TRUE(changed.contains(name)) << "our own start is seen too";
  changed.clear();

  auto stop = instance_->RunInside({"systemctl", "stop", name});
  ASSERT_TRUE(stop) << stop.error().ToString();
  ASSERT_EQ(stop->exit_code, 0) << stop->stdout_data << stop->stderr_data;

  // The agent's loop: poll the bus fd, then Process(); look at the unit when it is named.
  Clock::time_point deadline = Clock::now() + seconds(10);
  std::string seen_state;
  while (Clock::now() < deadline && seen_state != "inactive") {
    ASSERT_TRUE(manager_->Process());
    if (changed.erase(name) != 0) {
      auto state = manager_->GetUnitState(name);
      ASSERT_TRUE(state) << state.error().ToString();
      seen_state = state->active_state;
      continue;
    }
    struct pollfd pfd = {manager_->fd(), manager_->events(), 0};
    ASSERT_GE(::poll(&pfd, 1, 200), 0);
  }
  EXPECT_EQ(seen_state, "inactive") << "no change signal showed the unit stopped";
}

TEST_F(SystemdManagerTest, KillUnitSignalsTheMainProcess) {
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  Install(MakePodUnit(uuid, {"/bin/sleep", "1000"}));
  ASSERT_TRUE(manager_->StartUnit(name));
  Status st = manager_->KillUnit(name, "main", SIGKILL);
  ASSERT_TRUE(st) << st.error().ToString();
  auto killed = WaitForActiveState(name, "failed");
  ASSERT_TRUE(killed) << killed.error().ToString();
  EXPECT_EQ(killed->active_state, "failed");
  EXPECT_EQ(killed->exec_main_code, CLD_KILLED);
  EXPECT_EQ(killed->exec_main_status, SIGKILL);
  EXPECT_EQ(killed->result, "signal");
  EXPECT_TRUE(manager_->ResetFailedUnit(name));
}

TEST_F(SystemdManagerTest, MissingUnitIsNotFoundNotAnError) {
  std::string name = UnitName(NewUuid());
  auto state = manager_->GetUnitState(name);
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(state->load_state, "not-found");
  EXPECT_EQ(state->active_state, "inactive");
  EXPECT_EQ(state->main_pid, 0U);
  EXPECT_EQ(state->invocation_id, "");

  // Starting it is an error that names the unit and carries systemd's D-Bus error.
  Status st = manager_->StartUnit(name);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ENOENT) << st.error().ToString();
  EXPECT_NE(st.error().ToString().find(name), std::string::npos) << st.error().ToString();
  EXPECT_NE(st.error().ToString().find("org.freedesktop.systemd1.NoSuchUnit"), std::string::npos)
      << st.error().ToString();
}

TEST_F(SystemdManagerTest, AFailedJobNamesTheUnitAndTheResult) {
  // Type=oneshot: the start job waits for the command, so its failure is the job's result.
  std::string name = "comet-test-oneshot-" + NewUuid() + ".service";
  ASSERT_TRUE(os::WriteFile(os::JoinPath(instance_->UnitDir(), name),
                            "[Service]\nType=oneshot\nExecStart=/bin/false\n"));
  ASSERT_TRUE(manager_->Reload());
  Status st = manager_->StartUnit(name);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().ToString().find(name), std::string::npos) << st.error().ToString();
  EXPECT_NE(st.error().ToString().find("'failed'"), std::string::npos) << st.error().ToString();
  EXPECT_TRUE(manager_->ResetFailedUnit(name));
}

TEST_F(SystemdManagerTest, SystemdReadsExecStartQuotingBackExactly) {
  // The unit's command writes each argument it got on a line of its own; every argument must
  // arrive as the PodUnit has it.
  std::vector<std::string> args = {"two words",  "",      "say \"hi\"", "it's", "back\\slash",
                                   "trailing\\", "$HOME", "${HOME}",    "$$",   "100%",
                                   "%n%%",       ";",     "\\;",        "ünï",  "-dash"};
  std::string uuid = NewUuid();
  std::string name = UnitName(uuid);
  std::string out = "/run/args-" + uuid;
  std::vector<std::string> argv = {"/bin/sh", "-c",
                                   R"(for a; do printf '[%s]\n' "$a"; done > )" + out, "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  Install(MakePodUnit(uuid, argv));
  ASSERT_TRUE(manager_->StartUnit(name));
  auto done = WaitForActiveState(name, "inactive");
  ASSERT_TRUE(done) << done.error().ToString();
  ASSERT_EQ(done->active_state, "inactive");
  EXPECT_EQ(done->exec_main_status, 0);

  auto written = os::ReadFile(instance_->root() + out);
  ASSERT_TRUE(written) << written.error().ToString();
  std::string want;
  for (const std::string& a : args) {
    want += "[" + a + "]\n";
  }
  EXPECT_EQ(*written, want);
}

TEST_F(SystemdManagerTest, OnlyDbusAndJournaldRunOfTheHostsServices) {
  auto listed = instance_->RunInside({"systemctl", "list-units", "--type=service,timer,socket",
                                      "--state=active", "--no-legend", "--plain"});
  ASSERT_TRUE(listed) << listed.error().ToString();
  ASSERT_EQ(listed->exit_code, 0) << listed->stderr_data;
  std::set<std::string> active;
  for (const std::string& line : Split(listed->stdout_data, '\n')) {
    std::string unit = Split(std::string(TrimSpace(line)), ' ')[0];
    if (!unit.empty() && !StartsWith(unit, "k8s_")) {  // other tests' pods
      active.insert(unit);
    }
  }
  EXPECT_EQ(active,
            (std::set<std::string>{"dbus.service", "dbus.socket", "systemd-journald-dev-log.socket",
                                   "systemd-journald.service", "systemd-journald.socket"}))
      << listed->stdout_data;
}

// A fresh instance of its own: after Stop() no mount, cgroup or process of it is left.
TEST(SystemdInstance, StopLeavesNothingBehind) {
  if (!testing::IsRoot()) {
    GTEST_SKIP() << "needs root (boots systemd in new namespaces)";
  }
  testing::SystemdInstance instance;
  Status st = instance.Boot();
  ASSERT_TRUE(st) << "cannot boot systemd for the test: " << st.error().ToString();
  (void)std::fprintf(stderr, "systemd booted in %lld ms\n",
                     static_cast<long long>(instance.boot_time().count()));
  pid_t pid1 = instance.pid1();
  ino_t ns = instance.pid_namespace();
  ASSERT_NE(ns, 0U);
  std::vector<std::string> groups = instance.cgroups();
  ASSERT_FALSE(groups.empty());
  EXPECT_TRUE(InstanceMounts().empty()) << "the instance mounts only in its own namespace";

  // Something running in a unit's own cgroup, below the instance's groups.
  auto manager = SystemdManager::Connect(instance.BusAddress());
  ASSERT_TRUE(manager) << manager.error().ToString();
  std::string uuid = NewUuid();
  ASSERT_TRUE(WriteUnit(instance.UnitDir(), MakePodUnit(uuid, {"/bin/sleep", "1000"})));
  ASSERT_TRUE(manager->Reload());
  ASSERT_TRUE(manager->StartUnit(UnitName(uuid)));
  EXPECT_GE(ProcessesInPidNamespace(ns).size(), 3U) << "systemd, dbus, journald, sleep";

  Clock::time_point start = Clock::now();
  st = instance.Stop();
  ASSERT_TRUE(st) << st.error().ToString();
  (void)std::fprintf(stderr, "systemd stopped in %lld ms\n",
                     static_cast<long long>(
                         std::chrono::duration_cast<milliseconds>(Clock::now() - start).count()));
  EXPECT_FALSE(instance.running());
  EXPECT_EQ(::kill(pid1, 0), -1);
  EXPECT_TRUE(ProcessesInPidNamespace(ns).empty());
  for (const std::string& group : groups) {
    EXPECT_FALSE(os::Exists(group)) << group;
  }
  EXPECT_TRUE(InstanceMounts().empty());
  EXPECT_TRUE(instance.cgroups().empty());
}

}  // namespace
}  // namespace comet::node
