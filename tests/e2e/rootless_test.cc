// End-to-end, rootless: run as an unprivileged user (tests/e2e/run-rootless.sh drops to one),
// with a user namespace mapping container root to the caller's own uid and gid (or, for the
// multi-range tests, the caller's /etc/subuid and /etc/subgid ranges through newuidmap and
// newgidmap). Lifecycle, list/ps, exec, run with a terminal, ids; rootless_more_test.cc has
// the rest. Not thread-safe.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "e2e/console_socket.h"
#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;

struct IdRange {
  long start = 0;
  long count = 0;
};

// The first range of this user (by name or uid) in /etc/subuid or /etc/subgid.
std::optional<IdRange> SubIdRange(const std::string& file) {
  struct passwd entry {};
  struct passwd* pw = nullptr;
  std::array<char, 4096> buffer{};
  ::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &pw);
  const std::string name = pw != nullptr ? pw->pw_name : "";
  const std::string uid = std::to_string(::getuid());
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string owner;
    std::string start;
    std::string count;
    if (std::getline(fields, owner, ':') && std::getline(fields, start, ':') &&
        std::getline(fields, count) && (owner == name || owner == uid)) {
      return IdRange{std::stol(start), std::stol(count)};
    }
  }
  return std::nullopt;
}

// The "inside outside count" lines of a /proc/PID/uid_map or gid_map, whitespace normalized.
std::vector<std::string> MapLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  long inside = 0;
  long outside = 0;
  long count = 0;
  while (in >> inside >> outside >> count) {
    lines.push_back(std::to_string(inside) + " " + std::to_string(outside) + " " +
                    std::to_string(count));
  }
  return lines;
}

// The value of `key:` in /proc/PID/status (e.g. "Uid"), its first field only.
std::string StatusFieldOf(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::stringstream fields(line.substr(key.size() + 1));
      std::string first;
      fields >> first;
      return first;
    }
  }
  return "";
}

class Rootless : public RuntimeTest {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) {
      GTEST_SKIP() << "run as an unprivileged user, through tests/e2e/run-rootless.sh";
    }
    RuntimeTest::SetUp();
  }
  Bundle& RootlessBundle(const std::vector<std::string>& args) {
    return NewBundle(args, {.rootless = true});
  }
  // Maps container 0 to the caller and 1..N to its subordinate ranges (newuidmap/newgidmap).
  // Returns false (and records why) when the user has no ranges.
  bool UseSubIdMapping(Bundle& bundle) {
    auto uids = SubIdRange("/etc/subuid");
    auto gids = SubIdRange("/etc/subgid");
    if (!uids || !gids) {
      return false;
    }
    uid_range_ = {uids->start, std::min(uids->count, 65536L)};
    gid_range_ = {gids->start, std::min(gids->count, 65536L)};
    bundle.linux_section()["uidMappings"] = {
        {{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}},
        {{"containerID", 1}, {"hostID", uid_range_.start}, {"size", uid_range_.count}}};
    bundle.linux_section()["gidMappings"] = {
        {{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}},
        {{"containerID", 1}, {"hostID", gid_range_.start}, {"size", gid_range_.count}}};
    bundle.Write();
    return true;
  }
  IdRange uid_range_, gid_range_;
};

#define REQUIRE_SUBIDS(bundle)                                                       \
  do {                                                                               \
    if (!UseSubIdMapping(bundle)) {                                                  \
      GTEST_SKIP() << "this user has no /etc/subuid and /etc/subgid ranges (run as " \
                      "comet-test through run-rootless.sh, which creates them)";     \
    }                                                                                \
  } while (false)

TEST_F(Rootless, Echo) {
  Bundle& bundle = RootlessBundle({"/bin/echo", "hello rootless"});
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "hello rootless\n");
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, RootInsideIsTheCallerOutside) {
  Bundle& bundle = RootlessBundle({"/bin/cat", "/proc/self/uid_map"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_NE(r.out.find(std::to_string(::getuid())), std::string::npos) << r.out;
  bundle.SetArgs({"/bin/checker", "ids"});
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["uid"], "0");
  EXPECT_EQ(kv["gid"], "0");
}

TEST_F(Rootless, ExitCode) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "exit", "9"});
  const std::string id = NewId();
  EXPECT_EQ(Run(bundle, id).exit_code, 9);
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, Env) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "env"});
  bundle.process()["env"].push_back("ROOTLESS=yes");
  EXPECT_EQ(RunChecker(bundle)["ROOTLESS"], "yes");
}

TEST_F(Rootless, ReadonlyRootfs) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "write", "/newfile"});
  bundle.config()["root"]["readonly"] = true;
  EXPECT_EQ(RunChecker(bundle)["errname"], "EROFS");
  bundle.SetArgs({"/bin/checker", "write", "/dev/shm/ok"});
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK") << "mounts on a read-only root stay writable";
}

TEST_F(Rootless, Capabilities) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "caps"});
  auto kv = RunChecker(bundle);
  // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10), in the user namespace.
  EXPECT_EQ(kv["CapBnd"], "0000000020000420");
  EXPECT_EQ(kv["CapEff"], "0000000020000420");
}

TEST_F(Rootless, LifecycleWithOwnStateDir) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_EQ(State(id)["status"], "running");
  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

// The whole lifecycle with list and ps at each step; ps falls back to the init pid without a
// cgroup.
TEST_F(Rootless, LifecycleWithListAndPs) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id);
  nlohmann::json state = State(id);
  ASSERT_TRUE(state.is_object());
  EXPECT_EQ(state["id"], id);
  EXPECT_EQ(state["status"], "created");
  EXPECT_EQ(state["bundle"], bundle.dir());
  const int pid = state["pid"].get<int>();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(StatusFieldOf(pid, "Uid"), std::to_string(::getuid())) << "the init runs as us";

  ProcResult list = Runtime({"list", "--format", "json"});
  ASSERT_TRUE(list.ok()) << list.Describe();
  auto entries = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << list.out;
  ASSERT_EQ(entries.size(), 1U) << list.out;
  EXPECT_EQ(entries[0]["id"], id);
  EXPECT_EQ(entries[0]["status"], "created");
  EXPECT_EQ(entries[0]["pid"], pid);

  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_EQ(State(id)["status"], "running");
  ProcResult table = Runtime({"list"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  EXPECT_NE(table.out.find(id), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("running"), std::string::npos) << table.out;
  EXPECT_EQ(Runtime({"list", "-q"}).out, id + "\n");

  // The peers refuse ps without a cgroup (crun 1.8: "the container is not using cgroups").
  if (RuntimeName() != "crun" && RuntimeName() != "runc") {
    ProcResult ps = Runtime({"ps", "--format", "json", id});
    ASSERT_TRUE(ps.ok()) << ps.Describe();
    auto pids = nlohmann::json::parse(ps.out, nullptr, false);
    ASSERT_TRUE(pids.is_array()) << ps.out;
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end()) << ps.out;
    ProcResult ps_table = Runtime({"ps", id});
    ASSERT_TRUE(ps_table.ok()) << ps_table.Describe();
    EXPECT_NE(ps_table.out.find("PID"), std::string::npos) << ps_table.out;
    EXPECT_NE(ps_table.out.find(std::to_string(pid)), std::string::npos) << ps_table.out;
  }

  ASSERT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_NE(Runtime({"list"}).out.find("stopped"), std::string::npos);
  ProcResult deleted = Runtime({"delete", id});
  ASSERT_TRUE(deleted.ok()) << deleted.Describe();
  EXPECT_FALSE(Runtime({"state", id}).ok());
  EXPECT_EQ(Runtime({"list", "-q"}).out, "");
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, ProcessRunsOnlyAfterStart) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "write", "/tmp/started"});
  const std::string id = NewId();
  const std::string marker = bundle.rootfs() + "/tmp/started";
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(fs::exists(marker)) << "the process ran before start";
  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_TRUE(fs::exists(marker));
  ASSERT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

TEST_F(Rootless, RunKilledReturns137AndDetachWritesPidFile) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult r;
  std::thread runner([&] { r = Run(bundle, id); });
  const bool running = WaitForStatus(id, "running")["status"] == "running";
  EXPECT_TRUE(running);
  EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  runner.join();
  EXPECT_EQ(r.exit_code, 137) << r.Describe();
  ExpectNothingLeft(id, bundle);

  const std::string detached = NewId();
  const std::string pid_file = work_dir() + "/run.pid";
  ProcResult d = Run(bundle, detached, {"--detach", "--pid-file", pid_file},
                     {.output_path = work_dir() + "/run.out"});
  ASSERT_TRUE(d.ok()) << d.Describe();
  nlohmann::json state = State(detached);
  ASSERT_TRUE(state.is_object());
  EXPECT_EQ(state["status"], "running");
  EXPECT_EQ(std::to_string(state["pid"].get<int>()), ReadFileOrEmpty(pid_file));
  EXPECT_TRUE(Runtime({"kill", detached, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(detached, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", detached}).ok());
  ExpectNothingLeft(detached, bundle);
}

TEST_F(Rootless, RunWithTerminalThroughConsoleSocket) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 takes --console-socket only with run --detach");
  Bundle& bundle = RootlessBundle({"/bin/checker", "tty"});
  bundle.process()["terminal"] = true;
  bundle.process()["consoleSize"] = {{"height", 40}, {"width", 100}};
  bundle.Write();
  ConsoleSocket socket(work_dir() + "/console.sock");
  ASSERT_TRUE(socket.listening());
  const std::string id = NewId();
  ProcResult r;
  std::thread runner([&] { r = Run(bundle, id, {"--console-socket", socket.path()}); });
  const int master = socket.ReceiveMaster(10000);
  const std::string out = master >= 0 ? ReadPty(master, 10000) : "";
  runner.join();
  if (master >= 0) {
    ::close(master);
  }
  ASSERT_GE(master, 0) << "no pty master received\n" << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  auto kv = ParseKv(out);
  EXPECT_EQ(kv["stdin_tty"], "1") << out;
  EXPECT_EQ(kv["stdout_tty"], "1") << out;
  EXPECT_EQ(kv["stderr_tty"], "1") << out;
  EXPECT_EQ(kv["rows"], "40") << out;
  EXPECT_EQ(kv["cols"], "100") << out;
  EXPECT_EQ(kv["ttyname"].rfind("/dev/pts/", 0), 0U) << out;
  ExpectNothingLeft(id, bundle);
}

// A multi-range mapping through newuidmap/newgidmap: uid 1000 inside is a subordinate id.
TEST_F(Rootless, SubIdRangesThroughNewuidmap) {
  Bundle& bundle = RootlessBundle({"/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"});
  REQUIRE_SUBIDS(bundle);
  const std::string id = NewId();
  ProcResult maps = Run(bundle, id);
  ASSERT_TRUE(maps.ok()) << maps.Describe();
  std::vector<std::string> lines = MapLines(maps.out);
  const std::vector<std::string> expected = {
      "0 " + std::to_string(::getuid()) + " 1",
      "1 " + std::to_string(uid_range_.start) + " " + std::to_string(uid_range_.count),
      "0 " + std::to_string(::getgid()) + " 1",
      "1 " + std::to_string(gid_range_.start) + " " + std::to_string(gid_range_.count)};
  EXPECT_EQ(lines, expected) << maps.out;
  ExpectNothingLeft(id, bundle);

  bundle.process()["user"] = {{"uid", 1000}, {"gid", 1000}};
  bundle.SetArgs({"/bin/checker", "ids"});
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["uid"], "1000");
  EXPECT_EQ(kv["euid"], "1000");
  EXPECT_EQ(kv["gid"], "1000");
  EXPECT_EQ(kv["groups"], "");
}

// With newgidmap (setgroups allowed), additionalGids inside the mapped range are set.
TEST_F(Rootless, SubIdAdditionalGids) {
  SKIP_ON_RUNTIME("runc", "runc 1.1 refuses additional groups in any rootless container");
  Bundle& bundle = RootlessBundle({"/bin/checker", "ids"});
  REQUIRE_SUBIDS(bundle);
  bundle.process()["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 100}}};
  auto kv = RunChecker(bundle);
  EXPECT_EQ(kv["uid"], "1000");
  EXPECT_EQ(kv["gid"], "1000");
  EXPECT_EQ(kv["groups"], "5,100");
}

// The uid 1000 of the container is the host's subordinate uid start+999.
TEST_F(Rootless, SubIdUserOwnsItsFilesOnTheHost) {
  Bundle& bundle = RootlessBundle({"/bin/checker", "write", "/tmp/by-1000"});
  REQUIRE_SUBIDS(bundle);
  bundle.process()["user"] = {{"uid", 1000}, {"gid", 1000}};
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK");
  struct stat st {};
  ASSERT_EQ(::stat((bundle.rootfs() + "/tmp/by-1000").c_str(), &st), 0);
  EXPECT_EQ(static_cast<long>(st.st_uid), uid_range_.start + 999);
  EXPECT_EQ(static_cast<long>(st.st_gid), gid_range_.start + 999);
}

// Exec into a running rootless container (mapped with the subordinate ranges, so that
// --user can name a non-root user).
class RootlessExec : public Rootless {
 protected:
  void StartContainer() {
    bundle_ = &RootlessBundle({"/bin/checker", "sleep", "100"});
    if (!UseSubIdMapping(*bundle_)) {
      bundle_->Write();  // own ids only: the --user part is then skipped
      subids_ = false;
    }
    id_ = NewId();
    ProcResult created = Create(*bundle_, id_);
    ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id_);
    ASSERT_TRUE(Runtime({"start", id_}).ok());
    pid_ = State(id_)["pid"].get<int>();
  }
  ProcResult ExecIn(const std::vector<std::string>& flags, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"exec"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(id_);
    argv.insert(argv.end(), args.begin(), args.end());
    return Runtime(argv);
  }
  Bundle* bundle_ = nullptr;
  std::string id_;
  int pid_ = 0;
  bool subids_ = true;
};

std::string NsOf(int pid, const std::string& ns) {
  std::error_code ec;
  std::string link = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns, ec).string();
  auto open = link.find('[');
  return open == std::string::npos ? "?" : link.substr(open + 1, link.size() - open - 2);
}

TEST_F(RootlessExec, SameNamespacesExitCodeAndOutput) {
  ASSERT_NO_FATAL_FAILURE(StartContainer());
  ProcResult ns = ExecIn({}, {"/bin/checker", "ns"});
  ASSERT_TRUE(ns.ok()) << ns.Describe();
  auto kv = ParseKv(ns.out);
  for (const char* name : {"user", "pid", "ipc", "uts", "mnt"}) {
    EXPECT_EQ(kv[name], NsOf(pid_, name)) << name;
  }
  EXPECT_NE(kv["user"], NsOf(::getpid(), "user"));
  EXPECT_EQ(ExecIn({}, {"/bin/checker", "exit", "7"}).exit_code, 7);
  EXPECT_EQ(ExecIn({}, {"/bin/echo", "from exec"}).out, "from exec\n");
  EXPECT_NE(ExecIn({}, {"/no/such/binary"}).exit_code, 0);
  EXPECT_EQ(ParseKv(ExecIn({}, {"/bin/checker", "ids"}).out)["uid"], "0");
}

TEST_F(RootlessExec, EnvCwdUser) {
  ASSERT_NO_FATAL_FAILURE(StartContainer());
  auto env = ParseKv(ExecIn({"--env", "FOO=bar"}, {"/bin/checker", "env"}).out);
  EXPECT_EQ(env["FOO"], "bar");
  auto cwd = ParseKv(ExecIn({"--cwd", "/tmp"}, {"/bin/checker", "cwd"}).out);
  EXPECT_EQ(cwd["cwd"], "/tmp");
  if (!subids_) {
    GTEST_SKIP() << "--user needs /etc/subuid and /etc/subgid ranges for this user";
  }
  ProcResult user = ExecIn({"--user", "1000:1000"}, {"/bin/checker", "ids"});
  ASSERT_TRUE(user.ok()) << user.Describe();
  auto ids = ParseKv(user.out);
  EXPECT_EQ(ids["uid"], "1000");
  EXPECT_EQ(ids["gid"], "1000");
}

TEST_F(RootlessExec, DetachWithPidFile) {
  ASSERT_NO_FATAL_FAILURE(StartContainer());
  const std::string pid_file = work_dir() + "/exec.pid";
  ProcResult r = Runtime(
      {"exec", "--detach", "--pid-file", pid_file, id_, "/bin/checker", "write", "/tmp/exec-ran"},
      {.output_path = work_dir() + "/exec.out"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_FALSE(ReadFileOrEmpty(pid_file).empty());
  const std::string marker = bundle_->rootfs() + "/tmp/exec-ran";
  for (int i = 0; i < 100 && ReadFileOrEmpty(marker).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ReadFileOrEmpty(marker), "x\n");
}

TEST_F(RootlessExec, TtyThroughConsoleSocket) {
  ASSERT_NO_FATAL_FAILURE(StartContainer());
  ConsoleSocket socket(work_dir() + "/exec-console.sock");
  ASSERT_TRUE(socket.listening());
  ProcResult r;
  std::thread runner([&] {
    r = Runtime({"exec", "--detach", "--tty", "--console-socket", socket.path(), id_,
                 "/bin/checker", "tty"});
  });
  const int master = socket.ReceiveMaster(10000);
  const std::string out = master >= 0 ? ReadPty(master, 10000) : "";
  runner.join();
  if (master >= 0) {
    ::close(master);
  }
  ASSERT_GE(master, 0) << r.Describe();
  EXPECT_TRUE(r.ok()) << r.Describe();
  auto kv = ParseKv(out);
  EXPECT_EQ(kv["stdin_tty"], "1") << out;
  EXPECT_EQ(kv["stdout_tty"], "1") << out;
}

}  // namespace
}  // namespace comet::e2e
