// End-to-end regression tests for the runtime code review's findings: each test pins one fixed
// behaviour and says what it catches if the fix is reverted. Not thread-safe (gtest fixture).
// startContainer/createContainer hook states ("created"/"creating") are already pinned by
// Hooks.AllHooksInOrderWithState, so there is no test for them here.
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ReviewRegressions = PrivilegedRuntimeTest;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Sets this process's umask (inherited by the runtime subprocesses) for a scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;
  ScopedUmask(ScopedUmask&&) = delete;
  ScopedUmask& operator=(ScopedUmask&&) = delete;

 private:
  mode_t saved_;
};

// Polls until `path` exists or `timeout` passes.
bool WaitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The pid of a direct child of this test process whose command line mentions `needle` (the
// runtime started by Exec in another thread), or 0 after `timeout`.
pid_t FindChildRuntime(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string self = std::to_string(::getpid());
  do {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      const std::string stat = ReadFileOrEmpty(entry.path().string() + "/stat");
      const size_t close = stat.rfind(')');
      if (close == std::string::npos) {
        continue;
      }
      std::stringstream fields(stat.substr(close + 1));
      std::string state;
      std::string ppid;
      fields >> state >> ppid;
      std::string cmdline = ReadFileOrEmpty(entry.path().string() + "/cmdline");
      std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
      if (ppid == self && Contains(cmdline, needle)) {
        return std::stoi(name);
      }
    }
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return 0;
}

// Drops the devpts gid=5 option: it must name a gid mapped in the container's user namespace.
void UseMappedRoot(Bundle& bundle, int host_id) {
  bundle.SetNamespace("user");
  bundle.linux_section()["uidMappings"] = {
      {{"containerID", 0}, {"hostID", host_id}, {"size", 65536}}};
  bundle.linux_section()["gidMappings"] = {
      {{"containerID", 0}, {"hostID", host_id}, {"size", 65536}}};
  for (auto& m : bundle.config()["mounts"]) {
    if (m["destination"] == "/dev/pts") {
      m["options"] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    }
  }
}

// Catches: a config without process.capabilities leaving the runtime's own (full, as root)
// capability sets in place; before the fix the absent block skipped capset altogether.
TEST_F(ReviewRegressions, NoCapabilitiesBlockMeansEveryCapabilitySetEmpty) {
  Bundle& bundle = NewBundle({"/bin/checker", "caps"});
  bundle.process().erase("capabilities");
  auto kv = RunChecker(bundle);
  for (const char* set : {"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"}) {
    EXPECT_EQ(kv[set], "0000000000000000") << set;
  }
}

// Catches: the container inheriting the runtime's umask when process.user.umask is absent
// (before the fix umask was only set when given; Process.RootByDefault cannot see that because
// the test's own umask is already 0022).
TEST_F(ReviewRegressions, UmaskDefaultsTo0022WhateverTheRuntimesUmask) {
  Bundle& bundle = NewBundle({"/bin/checker", "ids"});
  ASSERT_FALSE(bundle.process()["user"].contains("umask"));
  bundle.Write();
  const std::string id = NewId();
  ProcResult r;
  {
    ScopedUmask umask(077);
    r = Run(bundle, id);
  }
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(ParseKv(r.out)["umask"], "0022");
  ExpectNothingLeft(id, bundle);
}

class CreateFailsInContainer : public PrivilegedRuntimeTest {
 protected:
  // `create` must fail (the error is only visible inside the container), its output must name
  // every one of `mentions`, and no container, state dir or cgroup may remain.
  void ExpectCreateFails(Bundle& bundle, const std::vector<std::string>& mentions) {
    const std::string id = NewId();
    const std::string cgroup = "/comet-" + id;
    bundle.linux_section()["cgroupsPath"] = cgroup;
    bundle.Write();
    ProcResult r = Create(bundle, id);
    EXPECT_NE(r.exit_code, 0) << "create succeeded: the error would only show at start\n"
                              << r.Describe();
    EXPECT_FALSE(State(id).is_object()) << "a container is left to start";
    ExpectNothingLeft(id, bundle, cgroup);
    if (RuntimeName() == "comet-runtime") {
      for (const auto& mention : mentions) {
        EXPECT_TRUE(Contains(r.out, mention)) << "should name " << mention << ":\n" << r.out;
      }
    }
  }
};

// Catches: chdir done after the exec fifo (in `start`) instead of before init reports created.
TEST_F(CreateFailsInContainer, CwdThatIsARegularFile) {
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.process()["cwd"] = "/bin/busybox";
  ExpectCreateFails(bundle, {"chdir", "/bin/busybox"});
}

// Catches: setrlimit done after the exec fifo (in `start`). Root lacks CAP_SYS_RESOURCE here, so
// it cannot raise the hard RLIMIT_NOFILE; the test skips on a machine where it can.
TEST_F(CreateFailsInContainer, RlimitTheKernelRefuses) {
  pid_t probe = ::fork();
  if (probe == 0) {
    struct rlimit limit = {1048576, 1048576};
    ::_exit(::setrlimit(RLIMIT_NOFILE, &limit) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(probe, &status, 0), probe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    GTEST_SKIP() << "this machine lets root raise RLIMIT_NOFILE to 1048576";
  }
  Bundle& bundle = NewBundle({"/bin/true"});
  bundle.process()["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 1048576}, {"hard", 1048576}}};
  ExpectCreateFails(bundle, {"setrlimit", "RLIMIT_NOFILE"});
}

// Catches: the exec fifo made with the caller's umask (0600 under 0077), which the container's
// mapped root (host uid 100000) cannot open, so `start` failed or hung.
TEST_F(ReviewRegressions, UserNamespacedContainerStartsUnderUmask0077) {
  Bundle& bundle = NewBundle({"/bin/checker", "ids"});
  UseMappedRoot(bundle, 100000);
  bundle.Write();
  const std::string id = NewId();
  ScopedUmask umask(077);
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe();
  const std::string fifo = state_root() + "/" + id + "/exec.fifo";
  if (RuntimeName() == "comet-runtime") {
    struct stat st {};
    ASSERT_EQ(::stat(fifo.c_str(), &st), 0) << fifo;
    EXPECT_EQ(st.st_mode & 07777, 0622U) << "exec fifo mode";
  }
  ProcResult started = Runtime({"start", id}, {.timeout = 20s});
  ASSERT_TRUE(started.ok()) << started.Describe();
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  auto kv = ParseKv(OutputOf(id));
  EXPECT_EQ(kv["uid"], "0") << OutputOf(id);
  EXPECT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

// Catches: two `start`s both reaching the exec fifo (no lock on the container dir, and the
// loser polling a hung-up fifo): the loser spun on POLLHUP for as long as the container ran, or
// the process started twice. The container keeps running so that a spinning loser never ends.
// Five rounds, to hit the race.
TEST_F(ReviewRegressions, ConcurrentStartsExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Bundle& bundle = NewBundle({"/bin/sh", "-c", "echo ran >> /tmp/ran; exec sleep 100"});
    const std::string id = NewId();
    ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
    std::array<ProcResult, 2> results;
    std::array<std::chrono::steady_clock::duration, 2> took{};
    std::latch go(1);
    auto start = [&](size_t i) {
      go.wait();
      auto begin = std::chrono::steady_clock::now();
      results[i] = Runtime({"start", id}, {.timeout = 20s});
      took[i] = std::chrono::steady_clock::now() - begin;
    };
    std::thread first(start, 0);
    std::thread second(start, 1);
    go.count_down();
    first.join();
    second.join();
    EXPECT_EQ(results[0].ok() + results[1].ok(), 1) << results[0].Describe() << "\n"
                                                    << results[1].Describe();
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_FALSE(results[i].timed_out);
      EXPECT_LT(took[i], 5s)
          << "start " << i << " took "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took[i]).count() << " ms";
    }
    EXPECT_EQ(State(id)["status"], "running");
    EXPECT_TRUE(WaitForFile(bundle.rootfs() + "/tmp/ran", 5s));
    EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
    EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
    EXPECT_EQ(ReadFileOrEmpty(bundle.rootfs() + "/tmp/ran"), "ran\n") << "the process runs once";
    EXPECT_TRUE(Runtime({"delete", id}).ok());
    ExpectNothingLeft(id, bundle);
  }
}

// Catches: `delete --force` refusing a container dir without state.json (a create that died
// before its first save) as "does not exist", which left the id unusable forever.
TEST_F(ReviewRegressions, ForceDeleteRemovesContainerDirWithoutState) {
  const std::string id = NewId();
  const std::string dir = state_root() + "/" + id;
  ASSERT_TRUE(fs::create_directory(dir));
  ProcResult deleted = Runtime({"delete", "--force", id});
  EXPECT_TRUE(deleted.ok()) << deleted.Describe();
  EXPECT_FALSE(fs::exists(dir));
  Bundle& bundle = NewBundle({"/bin/true"});
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << "the id is usable again\n" << created.Describe();
  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

// A cgroup made by the test in some v1 hierarchies, holding a `sleep` that is not the
// container's. Removed (the sleep killed) at the end of the scope.
class ForeignCgroup {
 public:
  ForeignCgroup(const std::string& path, const std::vector<std::string>& controllers) {
    for (const auto& controller : controllers) {
      std::string dir = "/sys/fs/cgroup/";
      dir.append(controller).append(path);
      if (::mkdir(dir.c_str(), 0755) == 0) {
        dirs_.push_back(dir);
      }
    }
    char arg0[] = "sleep";
    char arg1[] = "1000";
    char* argv[] = {arg0, arg1, nullptr};
    if (::posix_spawn(&sleeper_, "/bin/sleep", nullptr, nullptr, argv, environ) != 0) {
      sleeper_ = 0;
      return;
    }
    for (const auto& dir : dirs_) {
      WriteFileOrDie(dir + "/cgroup.procs", std::to_string(sleeper_));
    }
  }
  ~ForeignCgroup() {
    if (sleeper_ > 0) {
      ::kill(sleeper_, SIGKILL);
      ::waitpid(sleeper_, nullptr, 0);
    }
    for (const auto& dir : dirs_) {
      // The kernel may take a moment to drop the dead task from the group.
      for (int attempt = 0; attempt < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY;
           ++attempt) {
        std::this_thread::sleep_for(10ms);
      }
    }
  }
  ForeignCgroup(const ForeignCgroup&) = delete;
  ForeignCgroup& operator=(const ForeignCgroup&) = delete;
  ForeignCgroup(ForeignCgroup&&) = delete;
  ForeignCgroup& operator=(ForeignCgroup&&) = delete;

  pid_t sleeper() const { return sleeper_; }
  const std::vector<std::string>& dirs() const { return dirs_; }
  bool SleeperAlive() const { return sleeper_ > 0 && ::waitpid(sleeper_, nullptr, WNOHANG) == 0; }

 private:
  pid_t sleeper_ = 0;
  std::vector<std::string> dirs_;
};

// Catches: `create` adopting an existing cgroup that has someone else's process in it; a later
// delete would then kill that process and remove the group.
TEST_F(ReviewRegressions, CreateRefusesPopulatedExistingCgroup) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 only warns about a non-empty cgroup and joins it");
  SKIP_ON_RUNTIME("crun", "crun 1.8 joins a non-empty cgroup");
  std::vector<std::string> controllers;
  for (const auto& c : V1Controllers()) {
    if (c == "memory" || c == "pids" || c == "freezer") {
      controllers.push_back(c);
    }
  }
  if (controllers.empty()) {
    GTEST_SKIP() << "needs the v1 memory, pids or freezer hierarchy (this machine's layout)";
  }
  Bundle& bundle = NewBundle({"/bin/true"});
  const std::string id = NewId();
  const std::string path = "/comet-foreign-" + id;
  bundle.linux_section()["cgroupsPath"] = path;
  bundle.Write();
  ProcResult r;
  {
    ForeignCgroup foreign(path, controllers);
    ASSERT_GT(foreign.sleeper(), 0);
    ASSERT_EQ(foreign.dirs().size(), controllers.size());
    r = Create(bundle, id);
    EXPECT_NE(r.exit_code, 0) << r.Describe();
    EXPECT_TRUE(Contains(r.out, "not empty")) << r.out;
    EXPECT_FALSE(State(id).is_object());
    EXPECT_TRUE(foreign.SleeperAlive()) << "the foreign process was killed";
    for (const auto& dir : foreign.dirs()) {
      EXPECT_TRUE(fs::exists(dir)) << dir;
      EXPECT_TRUE(
          Contains(ReadFileOrEmpty(dir + "/cgroup.procs"), std::to_string(foreign.sleeper())))
          << dir;
    }
  }
  ExpectNothingLeft(id, bundle, path);
}

// Catches: fds marked close-on-exec (close_range) after the seccomp filter is installed, so a
// profile denying close_range failed every container. Both orders of the filter are tried: late
// (noNewPrivileges, filter right before execve) and early (before dropping capabilities).
TEST_F(ReviewRegressions, SeccompDenyingCloseRangeStillRuns) {
  Bundle& bundle = NewBundle({"/bin/checker", "fds"});
  bundle.linux_section()["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
      {"syscalls", {{{"names", {"close_range"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  for (bool no_new_privileges : {true, false}) {
    SCOPED_TRACE(no_new_privileges ? "noNewPrivileges" : "without noNewPrivileges");
    bundle.process()["noNewPrivileges"] = no_new_privileges;
    EXPECT_EQ(RunChecker(bundle)["fds"], "0,1,2") << "no runtime fd reaches the process";
  }
}

// Catches: `run` not forwarding SIGTERM to the container process (exit 143 from the runtime
// itself, or a hang). The container traps TERM and exits 9; the ready file says the trap is set.
TEST_F(ReviewRegressions, RunForwardsSigtermToTheContainer) {
  Bundle& bundle = NewBundle(
      {"/bin/sh", "-c", "trap 'exit 9' TERM; touch /tmp/ready; while true; do sleep 0.1; done"});
  bundle.Write();
  const std::string id = NewId();
  ProcResult r;
  std::thread runner([&] { r = Run(bundle, id, {}, {.timeout = 30s}); });
  const bool ready = WaitForFile(bundle.rootfs() + "/tmp/ready", 10s);
  const pid_t runtime = FindChildRuntime(id, 5s);
  EXPECT_TRUE(ready);
  EXPECT_GT(runtime, 0) << "runtime process not found";
  if (ready && runtime > 0) {
    EXPECT_EQ(::kill(runtime, SIGTERM), 0);
  } else {
    Runtime({"kill", id, "KILL"});
  }
  runner.join();
  EXPECT_EQ(r.exit_code, 9) << r.Describe();
  ExpectNothingLeft(id, bundle);
}

// Catches: signals not blocked until after create, so a SIGTERM while `run` is still creating
// (here: during a createRuntime hook) killed the runtime instead of reaching the container.
// Without a pid namespace the process is not an init, so a TERM that lands before the trap is
// set still ends it (143); with the trap it exits 9. Either way it must come from the container.
TEST_F(ReviewRegressions, RunForwardsSigtermReceivedDuringCreate) {
  Bundle& bundle =
      NewBundle({"/bin/sh", "-c", "trap 'exit 9' TERM; while true; do sleep 0.1; done"});
  bundle.RemoveNamespace("pid");
  const std::string in_hook = bundle.scratch() + "/in-hook";
  bundle.config()["hooks"] = {
      {"createRuntime",
       {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch " + in_hook + "; sleep 1"}}}}}};
  bundle.Write();
  const std::string id = NewId();
  ProcResult r;
  std::thread runner([&] { r = Run(bundle, id, {}, {.timeout = 30s}); });
  const bool hooked = WaitForFile(in_hook, 10s);
  const pid_t runtime = FindChildRuntime(id, 5s);
  EXPECT_TRUE(hooked);
  EXPECT_GT(runtime, 0) << "runtime process not found";
  if (hooked && runtime > 0) {
    EXPECT_EQ(::kill(runtime, SIGTERM), 0);
  } else {
    Runtime({"kill", id, "KILL"});
  }
  runner.join();
  EXPECT_EQ(r.signal, 0) << "the runtime died of the signal\n" << r.Describe();
  EXPECT_TRUE(r.exit_code == 9 || r.exit_code == 143) << r.Describe();
  ExpectNothingLeft(id, bundle);
}

// Catches: a state root that anyone may write (where another user could plant or swap state
// and fifos) being used as is.
TEST_F(ReviewRegressions, WorldWritableStateRootIsRefused) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 does not check the state root's mode");
  SKIP_ON_RUNTIME("crun", "crun 1.8 does not check the state root's mode");
  const std::string root = state_root() + "/open-root";
  ASSERT_TRUE(fs::create_directory(root));
  ASSERT_EQ(::chmod(root.c_str(), 0777), 0);
  Bundle& bundle = NewBundle({"/bin/true"});
  const std::string id = NewId();
  ProcResult r = Exec({RuntimePath(), "--root", root, "create", "--bundle", bundle.dir(), id},
                      {.output_path = work_dir() + "/open-root.out"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, root)) << "the message should name the root:\n" << r.out;
  EXPECT_TRUE(Contains(r.out, "writable")) << r.out;
  EXPECT_TRUE(fs::is_empty(root)) << "something was created in " << root;
  if (r.ok()) {
    Exec({RuntimePath(), "--root", root, "delete", "--force", id});
  }
  ExpectNothingLeft(id, bundle);
}

// Catches: the first failing poststart hook stopping the rest (and failing `start`); the
// runtime-spec says the failure is a warning and the lifecycle goes on.
// The failing hook reads its stdin first: crun 1.8 writes the state through a pipe and now and
// then dies of SIGPIPE when a hook exits without reading it.
TEST_F(ReviewRegressions, FailingPoststartHookLetsTheNextRunAndTheContainerLive) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 runs poststart hooks in create and fails it on the first");
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string marker = bundle.scratch() + "/second-hook";
  bundle.config()["hooks"] = {
      {"poststart",
       {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /dev/null; exit 1"}}},
        {{"path", "/bin/sh"},
         {"args", {"sh", "-c", "cat > " + marker + ".tmp && mv " + marker + ".tmp " + marker}}}}}};
  bundle.Write();
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ProcResult started = Runtime({"start", id});
  EXPECT_TRUE(started.ok()) << started.Describe();
  ASSERT_TRUE(WaitForFile(marker, 5s)) << "the second poststart hook did not run";
  nlohmann::json hook_state = nlohmann::json::parse(ReadFileOrEmpty(marker), nullptr, false);
  EXPECT_EQ(hook_state["id"], id) << "the second hook got the state on stdin";
  EXPECT_EQ(State(id)["status"], "running");
  EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

// Catches: `start` returning (and running poststart) as soon as init passed the exec fifo, while
// the startContainer hooks still ran: poststart could run first, and a failing startContainer
// hook could not fail `start`. The slow hook makes the race certain, not occasional.
TEST_F(ReviewRegressions, StartWaitsForStartContainerHooksAndReportsTheirFailure) {
  SKIP_ON_RUNTIME("crun", "its start returns before the startContainer hooks finish");
  SKIP_ON_RUNTIME("runc", "it runs poststart in create");
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string log = bundle.scratch() + "/order";
  bundle.config()["hooks"] = {
      {"startContainer",
       {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "sleep 0.5; echo start >> /order"}}}}},
      {"poststart",
       {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /dev/null; echo post >> " + log}}}}}};
  bundle.AddMount(
      {{"destination", "/order"}, {"type", "bind"}, {"source", log}, {"options", {"bind", "rw"}}});
  { std::ofstream create_empty(log); }
  ASSERT_TRUE(fs::exists(log));
  bundle.Write();
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ProcResult started = Runtime({"start", id});
  ASSERT_TRUE(started.ok()) << started.Describe();
  EXPECT_EQ(ReadFileOrEmpty(log), "start\npost\n");
  EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", id}).ok());

  bundle.config()["hooks"] = {
      {"startContainer", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}}}};
  bundle.Write();
  const std::string failing = NewId();
  ASSERT_TRUE(Create(bundle, failing).ok()) << OutputOf(failing);
  ProcResult refused = Runtime({"start", failing});
  EXPECT_FALSE(refused.ok()) << refused.Describe();
  EXPECT_NE(refused.err.find("startContainer hook"), std::string::npos) << refused.err;
  EXPECT_EQ(WaitForStatus(failing, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", failing}).ok());
  ExpectNothingLeft(failing, bundle);
}

}  // namespace
}  // namespace comet::e2e
