// End-to-end: `exec` into a running container (--env, --cwd, --user, --tty, --detach,
// --pid-file, --process), in the container's namespaces, with its exit code.
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "e2e/console_socket.h"
#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

class ExecTest : public PrivilegedRuntimeTest {
 protected:
  // Starts a long-running container and remembers its id and pid.
  void StartContainer() {
    bundle_ = &NewBundle({"/bin/checker", "sleep", "100"});
    id_ = NewId();
    ProcResult created = Create(*bundle_, id_);
    ASSERT_TRUE(created.ok()) << created.Describe() << OutputOf(id_);
    ASSERT_TRUE(Runtime({"start", id_}).ok());
    pid_ = State(id_)["pid"].get<int>();
  }
  ProcResult ExecIn(std::vector<std::string> flags, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"exec"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(id_);
    argv.insert(argv.end(), args.begin(), args.end());
    return Runtime(argv);
  }
  Bundle* bundle_ = nullptr;
  std::string id_;
  int pid_ = 0;
};

std::string InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
}

TEST_F(ExecTest, SameNamespacesAsTheContainer) {
  StartContainer();
  ProcResult r = ExecIn({}, {"/bin/checker", "ns"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto kv = ParseKv(r.out);
  const std::string proc = "/proc/" + std::to_string(pid_) + "/ns/";
  for (const char* ns : {"pid", "net", "ipc", "uts", "mnt"}) {
    EXPECT_EQ(kv[ns], InodeOf(proc + ns)) << ns;
  }
  ProcResult pid = ExecIn({}, {"/bin/checker", "pid"});
  EXPECT_NE(ParseKv(pid.out)["pid"], "1");
  ProcResult caps = ExecIn({}, {"/bin/checker", "caps"});
  EXPECT_EQ(ParseKv(caps.out)["CapBnd"], "0000000020000420") << "the container's process caps";
}

TEST_F(ExecTest, ExitCodeAndOutput) {
  StartContainer();
  EXPECT_EQ(ExecIn({}, {"/bin/checker", "exit", "7"}).exit_code, 7);
  ProcResult echo = ExecIn({}, {"/bin/echo", "from exec"});
  EXPECT_EQ(echo.out, "from exec\n");
  EXPECT_NE(ExecIn({}, {"/no/such/binary"}).exit_code, 0);
}

TEST_F(ExecTest, EnvCwdUser) {
  StartContainer();
  auto env =
      ParseKv(ExecIn({"--env", "FOO=bar", "--env", "PATH=/bin"}, {"/bin/checker", "env"}).out);
  EXPECT_EQ(env["FOO"], "bar");
  EXPECT_EQ(env["PATH"], "/bin");
  auto cwd = ParseKv(ExecIn({"--cwd", "/tmp"}, {"/bin/checker", "cwd"}).out);
  EXPECT_EQ(cwd["cwd"], "/tmp");
  auto ids = ParseKv(ExecIn({"--user", "1000:1001"}, {"/bin/checker", "ids"}).out);
  EXPECT_EQ(ids["uid"], "1000");
  EXPECT_EQ(ids["gid"], "1001");
}

TEST_F(ExecTest, DetachWithPidFile) {
  StartContainer();
  const std::string pid_file = work_dir() + "/exec.pid";
  ProcResult r = Runtime(
      {"exec", "--detach", "--pid-file", pid_file, id_, "/bin/checker", "write", "/tmp/exec-ran"},
      {.output_path = work_dir() + "/exec.out"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_FALSE(ReadFileOrEmpty(pid_file).empty());
  for (int i = 0; i < 100 && ReadFileOrEmpty(bundle_->rootfs() + "/tmp/exec-ran").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ReadFileOrEmpty(bundle_->rootfs() + "/tmp/exec-ran"), "x\n");
}

TEST_F(ExecTest, ProcessJson) {
  StartContainer();
  nlohmann::json process = {{"terminal", false},
                            {"user", {{"uid", 1000}, {"gid", 1000}}},
                            {"args", {"/bin/checker", "env"}},
                            {"env", {"PATH=/bin", "FROM=process.json"}},
                            {"cwd", "/tmp"}};
  const std::string path = work_dir() + "/process.json";
  WriteFileOrDie(path, process.dump());
  ProcResult r = Runtime({"exec", "--process", path, id_});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(ParseKv(r.out)["FROM"], "process.json");
  process["args"] = {"/bin/checker", "ids"};
  WriteFileOrDie(path, process.dump());
  EXPECT_EQ(ParseKv(Runtime({"exec", "--process", path, id_}).out)["uid"], "1000");
}

TEST_F(ExecTest, TtyThroughConsoleSocket) {
  StartContainer();
  ConsoleSocket socket(work_dir() + "/exec-console.sock");
  ASSERT_TRUE(socket.listening());
  ProcResult r;
  std::thread runner([&] {
    r = Runtime({"exec", "--detach", "--tty", "--console-socket", socket.path(), id_,
                 "/bin/checker", "tty"});
  });
  int master = socket.ReceiveMaster(10000);
  std::string out = master >= 0 ? ReadPty(master, 10000) : "";
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

TEST_F(ExecTest, IntoStoppedContainerFails) {
  StartContainer();
  ASSERT_TRUE(Runtime({"kill", id_, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id_, "stopped")["status"], "stopped");
  EXPECT_NE(ExecIn({}, {"/bin/true"}).exit_code, 0);
}

}  // namespace
}  // namespace comet::e2e
