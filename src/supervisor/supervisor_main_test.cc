#include "supervisor/supervisor_main.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "testing/in_child.h"

namespace comet::supervisor {
namespace {

TEST(CommandLineTest, ParsesStage0sFlags) {
  auto line = ParseCommandLine({"--pod-dir=/var/lib/comet/pods/run/x", "--data-dir=/var/lib/comet",
                                "--debug", "--rm", "--foreground", "--ready-fd=7"});
  ASSERT_TRUE(line) << line.error().ToString();
  EXPECT_EQ(line->pod_dir, "/var/lib/comet/pods/run/x");
  EXPECT_EQ(line->data_dir, "/var/lib/comet");
  EXPECT_TRUE(line->debug);
  EXPECT_TRUE(line->remove);
  EXPECT_TRUE(line->foreground);
  EXPECT_EQ(line->ready_fd, 7);

  line = ParseCommandLine({"--pod-dir=/p", "--data-dir=/d"});
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->remove);
  EXPECT_EQ(line->ready_fd, -1);
}

TEST(CommandLineTest, RejectsBadInput) {
  EXPECT_FALSE(ParseCommandLine({"--data-dir=/d"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=relative", "--data-dir=/d"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--ready-fd=1"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--ready-fd=x"}));
  auto unknown = ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--bogus"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().ToString().find("--bogus"), std::string::npos);
}

// Everything but the lock and ready fds is closed, whatever its close-on-exec flag.
TEST(CloseInheritedFdsTest, KeepsOnlyTheLockAndReadyFds) {
  auto outcome = testing::RunInChild([] {
    // Without O_CLOEXEC on purpose: CloseInheritedFds must close fds whatever their flag.
    int lock = ::open("/dev/null", O_RDONLY);   // NOLINT(android-cloexec-open)
    int stray = ::open("/dev/null", O_RDONLY);  // NOLINT(android-cloexec-open)
    int ready = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int high = ::fcntl(stray, F_DUPFD, 200);
    if (lock < 3 || stray < 0 || ready < 0 || high < 0) {
      return 2;
    }
    CloseInheritedFds(lock, ready);
    bool kept =
        ::fcntl(lock, F_GETFD) >= 0 && ::fcntl(ready, F_GETFD) >= 0 && ::fcntl(1, F_GETFD) >= 0;
    bool closed = ::fcntl(stray, F_GETFD) < 0 && ::fcntl(high, F_GETFD) < 0;
    return kept && closed ? 0 : 1;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::supervisor
