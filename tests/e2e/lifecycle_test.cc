// End-to-end: create/start/state/kill/delete, run exit codes, --detach, --pid-file,
// --preserve-fds.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using Lifecycle = PrivilegedRuntimeTest;

TEST_F(Lifecycle, CreateStartStateKillDelete) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult created = Create(bundle, id);
  ASSERT_TRUE(created.ok()) << created.Describe();

  nlohmann::json state = State(id);
  ASSERT_TRUE(state.is_object());
  EXPECT_EQ(state["id"], id);
  EXPECT_EQ(state["status"], "created");
  EXPECT_GT(state["pid"].get<int>(), 0);
  EXPECT_EQ(state["bundle"], bundle.dir());
  EXPECT_TRUE(state.contains("ociVersion"));

  ProcResult started = Runtime({"start", id});
  ASSERT_TRUE(started.ok()) << started.Describe();
  EXPECT_EQ(State(id)["status"], "running");

  ProcResult killed = Runtime({"kill", id, "KILL"});
  ASSERT_TRUE(killed.ok()) << killed.Describe();
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");

  ProcResult deleted = Runtime({"delete", id});
  ASSERT_TRUE(deleted.ok()) << deleted.Describe();
  EXPECT_FALSE(Runtime({"state", id}).ok());
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, ProcessRunsOnlyAfterStart) {
  Bundle& bundle = NewBundle({"/bin/checker", "write", "/tmp/started"});
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

TEST_F(Lifecycle, StartTwiceFails) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ASSERT_TRUE(Runtime({"start", id}).ok());
  EXPECT_FALSE(Runtime({"start", id}).ok());
  EXPECT_FALSE(Runtime({"delete", id}).ok()) << "deleting a running container needs --force";
  EXPECT_TRUE(Runtime({"delete", "--force", id}).ok());
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, DeleteCreatedContainer) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ASSERT_TRUE(Create(bundle, id).ok()) << OutputOf(id);
  ProcResult deleted = Runtime({"delete", "--force", id});
  EXPECT_TRUE(deleted.ok()) << deleted.Describe();
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, RunReturnsExitCode) {
  Bundle& bundle = NewBundle({"/bin/checker", "exit", "42"});
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 42) << r.Describe();
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, RunPrintsOutput) {
  Bundle& bundle = NewBundle({"/bin/echo", "hello from comet"});
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "hello from comet\n");
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, RunKilledBySigkillReturns137) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  ProcResult r;
  std::thread runner([&] { r = Run(bundle, id); });
  bool running = WaitForStatus(id, "running")["status"] == "running";
  EXPECT_TRUE(running);
  EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  runner.join();
  EXPECT_EQ(r.exit_code, 137) << r.Describe();
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, RunDetachWritesPidFile) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  const std::string pid_file = work_dir() + "/pid";
  ProcResult r = Runtime({"run", "--detach", "--pid-file", pid_file, "--bundle", bundle.dir(), id},
                         {.output_path = work_dir() + "/out"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  nlohmann::json state = State(id);
  ASSERT_TRUE(state.is_object());
  EXPECT_EQ(state["status"], "running");
  EXPECT_EQ(std::to_string(state["pid"].get<int>()), ReadFileOrEmpty(pid_file));
  EXPECT_TRUE(fs::exists("/proc/" + std::to_string(state["pid"].get<int>())));
  EXPECT_TRUE(Runtime({"kill", id, "KILL"}).ok());
  EXPECT_EQ(WaitForStatus(id, "stopped")["status"], "stopped");
  EXPECT_TRUE(Runtime({"delete", id}).ok());
  ExpectNothingLeft(id, bundle);
}

TEST_F(Lifecycle, CreatePidFile) {
  Bundle& bundle = NewBundle({"/bin/checker", "sleep", "100"});
  const std::string id = NewId();
  const std::string pid_file = work_dir() + "/pid";
  ASSERT_TRUE(Create(bundle, id, {"--pid-file", pid_file}).ok()) << OutputOf(id);
  EXPECT_EQ(std::to_string(State(id)["pid"].get<int>()), ReadFileOrEmpty(pid_file));
}

TEST_F(Lifecycle, OnlyStdioReachesTheProcess) {
  Bundle& bundle = NewBundle({"/bin/checker", "fds"});
  EXPECT_EQ(RunChecker(bundle)["fds"], "0,1,2");
}

TEST_F(Lifecycle, PreserveFds) {
  Bundle& bundle = NewBundle({"/bin/checker", "fds"});
  // Close-on-exec here too: pass_fds clears the flag on fd 3 in the runtime's process only.
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  if (fd != 3) {
    ASSERT_EQ(::dup3(fd, 3, O_CLOEXEC), 3);
    ::close(fd);
  }
  const std::string id = NewId();
  ProcResult r = Run(bundle, id, {"--preserve-fds", "1"}, {.pass_fds = {3}});
  ::close(3);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ParseKv(r.out)["fds"], "0,1,2,3");
}

TEST_F(Lifecycle, StateOfUnknownContainerFails) {
  ProcResult r = Runtime({"state", "no-such-container"});
  EXPECT_NE(r.exit_code, 0);
  SKIP_ON_RUNTIME("runc", "its message does not name the container");
  EXPECT_NE(r.err.find("no-such-container"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace comet::e2e
