// Daemonless, proven: a detached pod survives SIGKILL of every comet process but its
// supervisor, and the replacement of the comet binaries; fresh `comet` processes still list,
// inspect, attach to and stop it.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "e2e/pod/pod_fixture.h"

namespace comet::e2e::pod {
namespace {

namespace fs = std::filesystem;

const char* const kTicker =
    "i=0; trap 'exit 0' TERM; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done";

std::string ExeOf(pid_t pid) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
}

class Daemonless : public PodTest {
 protected:
  // Every live process running one of `binaries` (paths as /proc/<pid>/exe shows them).
  static std::vector<pid_t> ProcessesRunning(const std::vector<std::string>& binaries) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      const auto pid = static_cast<pid_t>(std::stoi(name));
      std::string exe = ExeOf(pid);
      const std::string deleted = " (deleted)";
      if (exe.size() > deleted.size() &&
          exe.compare(exe.size() - deleted.size(), deleted.size(), deleted) == 0) {
        exe.resize(exe.size() - deleted.size());
      }
      for (const std::string& binary : binaries) {
        if (exe == binary && pid != ::getpid()) {
          pids.push_back(pid);
        }
      }
    }
    return pids;
  }

  // The pod still works from fresh processes: list, status, attach (output), stop.
  void ExpectPodStillServed(const std::string& uuid, pid_t supervisor) {
    EXPECT_EQ(::kill(supervisor, 0), 0) << "the supervisor died";
    EXPECT_TRUE(Contains(Ok({"list"}), uuid.substr(0, 8)));
    auto status = Status(uuid);
    EXPECT_EQ(status["state"], "running");
    EXPECT_EQ(status["pid"], std::to_string(supervisor));
    ProcResult watched = Comet({"attach", "--no-stdin", uuid}, {.timeout = 2s});
    EXPECT_TRUE(Contains(watched.out, "tick-")) << watched.Describe();
    ProcResult stop = Comet({"stop", uuid});
    EXPECT_EQ(stop.exit_code, 0) << stop.Describe();
    EXPECT_EQ(Status(uuid)["state"], "exited");
    EXPECT_TRUE(WaitUntil([&] { return ::kill(supervisor, 0) != 0; }, 5s));
  }
};

TEST_F(Daemonless, SurvivesKillingEveryCometProcessButTheSupervisor) {
  const std::string uuid = RunDetached({kImage, "--", "/bin/sh", "-c", kTicker});
  ASSERT_FALSE(uuid.empty());
  const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + Status(uuid)["pid"]));
  ASSERT_GT(supervisor, 0);
  // Clients of the pod that are comet processes too.
  Background follow({CometBinary(), "--dir=" + data(), "logs", "-f", uuid},
                    {"COMET_E2E_MARK=" + marker()}, tmp() + "/follow.out");
  Background attach({CometBinary(), "--dir=" + data(), "attach", "--no-stdin", uuid},
                    {"COMET_E2E_MARK=" + marker()}, tmp() + "/attach.out");
  EXPECT_TRUE(WaitUntil([&] { return Contains(attach.Output(), "tick-"); }, 10s))
      << attach.Output();
  std::vector<std::string> binaries = {fs::canonical(CometBinary()).string(),
                                       fs::canonical(SupervisorBinary()).string()};
  int killed = 0;
  for (pid_t pid : ProcessesRunning(binaries)) {
    // Only this test's comet processes: others' tests may run on the machine.
    const std::string env = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/environ");
    if (pid != supervisor && Contains(env, "COMET_E2E_MARK=" + marker())) {
      EXPECT_EQ(::kill(pid, SIGKILL), 0);
      ++killed;
    }
  }
  EXPECT_GE(killed, 2) << "logs -f and attach";
  EXPECT_NE(follow.Wait(5s), kStillRunning);
  EXPECT_NE(attach.Wait(5s), kStillRunning);
  std::this_thread::sleep_for(500ms);
  ExpectPodStillServed(uuid, supervisor);
}

TEST_F(Daemonless, SurvivesReplacingTheBinaries) {
  const std::string bin = HostDir("bin");
  std::error_code ec;
  fs::copy_file(CometBinary(), bin + "/comet", ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::copy_file(SupervisorBinary(), bin + "/comet-supervisor", ec);
  ASSERT_FALSE(ec) << SupervisorBinary() << ": " << ec.message();
  ProcResult run = CometWith(bin + "/comet", {"run", "-d", kImage, "--", "/bin/sh", "-c", kTicker});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::string uuid = Trim(run.out);
  const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + Status(uuid)["pid"]));
  ASSERT_GT(supervisor, 0);
  EXPECT_EQ(ExeOf(supervisor), bin + "/comet-supervisor") << "the copy runs the pod";
  fs::remove_all(bin, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(Contains(ExeOf(supervisor), "(deleted)")) << ExeOf(supervisor);
  ExpectPodStillServed(uuid, supervisor);
}

}  // namespace
}  // namespace comet::e2e::pod
