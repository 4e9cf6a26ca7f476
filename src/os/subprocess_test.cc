// Tests for RunSubprocess, driving /bin/sh.
#include "os/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "os/unique_fd.h"

namespace comet::os {
namespace {

using std::chrono::milliseconds;

SubprocessOptions Shell(std::string script) {
  SubprocessOptions options;
  options.program = "/bin/sh";
  options.argv = {"sh", "-c", std::move(script)};
  return options;
}

TEST(Subprocess, CapturesStdoutStderrAndStatus) {
  auto r = RunSubprocess(Shell("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_EQ(r->Describe(), "exited with status 3");
}

TEST(Subprocess, FeedsStdin) {
  SubprocessOptions options = Shell("cat; cat");  // the second cat sees EOF at once
  options.stdin_data = std::string(300000, 'x') + "end";
  auto r = RunSubprocess(options);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->stdout_data, options.stdin_data);
}

TEST(Subprocess, PassesEnvironmentExactly) {
  SubprocessOptions options;
  options.program = "/usr/bin/env";
  options.env = std::vector<std::string>{"A=1", "B=two"};
  auto r = RunSubprocess(options);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->stdout_data, "A=1\nB=two\n");
}

TEST(Subprocess, BoundsOutput) {
  SubprocessOptions options = Shell("head -c 3000000 /dev/zero; head -c 5000 /dev/zero >&2");
  options.max_stdout = 1000;
  options.max_stderr = 10;
  auto r = RunSubprocess(options);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->Succeeded());  // the rest was read and dropped, so the child never blocked
  EXPECT_EQ(r->stdout_data.size(), 1000u);
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stderr_data.size(), 10u);
  EXPECT_TRUE(r->stderr_truncated);
}

TEST(Subprocess, TimeoutKillsTheProcessGroup) {
  // The grandchild holds stdout open; the kill must reach it or the run would hang.
  SubprocessOptions options = Shell("sleep 30 & echo started; wait");
  options.timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess(options);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->stdout_data, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Subprocess, ReturnsWhenADaemonKeepsThePipe) {
  // The child exits at once; a grandchild in another group keeps stdout: a short drain only.
  SubprocessOptions options = Shell("setsid sleep 3 & echo done");
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess(options);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->Succeeded());
  EXPECT_EQ(r->stdout_data, "done\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Subprocess, MissingProgramIsAnError) {
  SubprocessOptions options;
  options.program = "/nonexistent/program";
  auto r = RunSubprocess(options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_NE(r.error().ToString().find("/nonexistent/program"), std::string::npos);
}

TEST(Subprocess, LeaksNoDescriptors) {
  // An fd without O_CLOEXEC (as a careless library might make) must not reach the child either.
  UniqueFd leaky(::open("/dev/null", O_RDONLY));  // NOLINT(android-cloexec-open): deliberate
  ASSERT_TRUE(leaky);
  auto r = RunSubprocess(Shell("ls /proc/self/fd"));
  ASSERT_TRUE(r) << r.error().ToString();
  // 0, 1, 2 and the fd ls opened to read the directory.
  EXPECT_EQ(r->stdout_data, "0\n1\n2\n3\n");
}

TEST(Subprocess, ResetsSignalMaskAndDispositions) {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigset_t old;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  auto r = RunSubprocess(Shell("kill -TERM $$; sleep 5"));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->signal, SIGTERM);
}

TEST(Subprocess, RejectsHugeStdin) {
  SubprocessOptions options = Shell("true");
  options.stdin_data.assign(kMaxSubprocessStdin + 1, 'x');
  auto r = RunSubprocess(options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EFBIG);
}

}  // namespace
}  // namespace comet::os
