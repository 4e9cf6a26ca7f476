// Fault injection: COMET_TEST_CRASH_AT=<step> makes stage0 (`comet run`) or the supervisor
// SIGKILL itself at that step; `comet gc --grace-period=0s` (mark, then sweep) must then leave no
// pod directory, mount, cgroup, process or volatile directory (on tmpfs). Also a SIGKILL of a
// running supervisor, and an exited pod's statuses kept on disk.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e/pod/pod_checks.h"
#include "os/file.h"

namespace comet::e2e::pod {

std::vector<std::string> PodChecks::CrashSteps() {
  return {"embryo",     "prepare",  "manifest", "layers", "run",
          "namespaces", "snapshot", "create",   "started"};
}

void PodChecks::CrashAtStepThenGc(const std::string& step) {
  const std::string v = HostDir("v");
  // Two apps with an empty and a memory volume, so that every kind of state exists.
  ProcResult r = Comet({"run",
                        "--volume=e,kind=empty",
                        "--volume=m,kind=empty,medium=memory",
                        "--volume=h,kind=host,source=" + v,
                        "--mount=volume=e,target=/e",
                        "--mount=volume=m,target=/m",
                        "--mount=volume=h,target=/h",
                        kImage,
                        "--name=one",
                        "--memory=64M",
                        "--",
                        "/bin/sh",
                        "-c",
                        "touch /h/one-started; sleep 3600",
                        "---",
                        kImage,
                        "--name=two",
                        "--",
                        "/bin/sleep",
                        "3600"},
                       {.timeout = 60s, .env = {"COMET_TEST_CRASH_AT=" + step}});
  // Rootless, the comet that re-executed itself in the user's namespace passes the SIGKILL of
  // stage0 on as the shell does: exit 128 + 9.
  EXPECT_TRUE(r.signal == SIGKILL || (::geteuid() != 0 && r.exit_code == 128 + SIGKILL))
      << "the crash hook did not fire at " << step << ": " << r.Describe();
  // A second pod that ran normally and exited: collected in the same sweep.
  EXPECT_EQ(Comet({"run", kImage, "--", "/bin/true"}).exit_code, 0);
  for (int i = 0; i < 2; ++i) {
    ProcResult gc = Comet({"gc", "--grace-period=0s"}, {.timeout = 120s});
    EXPECT_EQ(gc.exit_code, 0) << step << ": " << gc.Describe();
  }
  ExpectNothingLeft("crash at " + step + ", then gc");
}

namespace {

class CrashAt : public PodChecks, public ::testing::WithParamInterface<std::string> {};

TEST_P(CrashAt, GcCleansUpEverything) {
  CrashAtStepThenGc(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Steps, CrashAt, ::testing::ValuesIn(PodChecks::CrashSteps()),
                         [](const ::testing::TestParamInfo<std::string>& step) {
                           return step.param;
                         });

using Faults = PodTest;

TEST_F(Faults, SupervisorKilledThenGc) {
  const std::string uuid =
      RunDetached({"--volume=m,kind=empty,medium=memory", "--mount=volume=m,target=/m", kImage,
                   "--memory=64M", "--", "/bin/sleep", "3600"});
  ASSERT_FALSE(uuid.empty());
  const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + Status(uuid)["pid"]));
  ASSERT_GT(supervisor, 0);
  // The pod's volatile state is on tmpfs, behind <pod>/state.
  const std::string volatile_dir = VolatileRoot() + "/" + uuid;
  EXPECT_TRUE(os::IsDirectory(volatile_dir + "/runtime"));
  EXPECT_TRUE(os::Exists(volatile_dir + "/supervisor.json"));
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return ::kill(supervisor, 0) != 0; }, 5s));
  // The lock died with it: the pod counts as exited.
  EXPECT_TRUE(WaitUntil([&] { return Status(uuid)["state"] == "exited"; }, 5s));
  for (int i = 0; i < 2; ++i) {
    ProcResult gc = Comet({"gc", "--grace-period=0s"}, {.timeout = 120s});
    EXPECT_EQ(gc.exit_code, 0) << gc.Describe();
  }
  ExpectNothingLeft("supervisor killed, then gc");
  EXPECT_FALSE(os::Exists(volatile_dir));
}

// A kept pod's final statuses move to disk when it exits, and its tmpfs directory goes: they
// survive a reboot. A dangling link (the reboot of a pod that crashed) reads as no status.
TEST_F(Faults, ExitedPodKeepsItsStatusOnDisk) {
  ProcResult r = Comet({"run", kImage, "--", "/bin/sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  std::vector<std::string> dirs = PodDirs();
  ASSERT_EQ(dirs.size(), 1U);
  const std::string uuid = dirs[0].substr(dirs[0].find('/') + 1);
  struct stat st {};
  ASSERT_EQ(::lstat((PodPath(uuid) + "/state").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << "<pod>/state is still a link";
  EXPECT_FALSE(os::Exists(VolatileRoot() + "/" + uuid));
  EXPECT_EQ(AppStatus(uuid, kApp)["exit_code"], 3);
  EXPECT_EQ(Status(uuid)["state"], "exited");

  // Crashed, then rebooted: the link dangles.
  const std::string crashed = RunDetached({kImage, "--", "/bin/sleep", "3600"});
  ASSERT_FALSE(crashed.empty());
  const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + Status(crashed)["pid"]));
  ASSERT_GT(supervisor, 0);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  // What a reboot takes: the pod's processes and the volatile directory.
  for (pid_t pid : MarkedProcesses()) {
    ::kill(pid, SIGKILL);
  }
  EXPECT_TRUE(WaitUntil([&] { return MarkedProcesses().empty(); }, 5s));
  ASSERT_TRUE(os::RemoveAll(VolatileRoot() + "/" + crashed));
  ProcResult status = Comet({"status", crashed});
  EXPECT_EQ(status.exit_code, 0) << status.Describe();
  EXPECT_EQ(ParseKv(status.out)["state"], "exited") << status.Describe();
  EXPECT_TRUE(AppStatus(crashed, kApp).is_discarded());
  // TearDown's gc collects it and checks that nothing is left.
}

TEST_F(Faults, DetachedRunReportsASupervisorCrash) {
  // With -d the supervisor's death before "ready" is reported by the waiting parent.
  ProcResult r = Comet({"run", "-d", kImage, "--", "/bin/sleep", "3600"},
                       {.timeout = 60s, .env = {"COMET_TEST_CRASH_AT=create"}});
  EXPECT_EQ(r.exit_code, 254) << r.Describe();
  EXPECT_FALSE(r.err.empty());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Comet({"gc", "--grace-period=0s"}, {.timeout = 120s}).exit_code, 0);
  }
  ExpectNothingLeft("run -d with the supervisor killed at create, then gc");
}

}  // namespace
}  // namespace comet::e2e::pod
