// Tests that oci::DefaultSeccompProfile compiles and, installed in a forked child running as
// root (so that without the filter the denied calls would succeed), denies what it must and
// leaves ordinary calls (getpid, fork, threads, personality queries) working.
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "oci/default_seccomp.h"
#include "seccomp/filter.h"
#include "testing/in_child.h"

namespace comet::seccomp {
namespace {

using testing::ChildOutcome;
using testing::IsRoot;
using testing::RunInChild;

const std::vector<std::string> kDefaultCaps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID",
                                               "CAP_SYS_CHROOT"};

// Runs `body` in a forked child under the default profile for `caps`; the child's exit code is
// the number of the first failed check (0: all passed), 100 when the filter did not install.
ChildOutcome RunConfined(const std::vector<std::string>& caps, const std::function<int()>& body) {
  auto filter = Compile(oci::DefaultSeccompProfile(caps));
  EXPECT_TRUE(filter.has_value()) << (filter ? "" : filter.error().message());
  if (!filter) {
    return {};
  }
  return RunInChild([&] {
    ::alarm(10);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || Install(*filter) != 0) {
      return 100;
    }
    return body();
  });
}

// -1 with errno `expected`: true.
bool FailsWith(long rc, int expected) {
  return rc == -1 && errno == expected;
}

// fork() (clone without namespace flags) works and the child runs.
bool ForkWorks() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(7);
  }
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 7;
}

TEST(DefaultProfile, CompilesForEveryCapabilitySet) {
  for (const auto& caps : std::vector<std::vector<std::string>>{
           {}, kDefaultCaps, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME", "CAP_BPF"}}) {
    auto filter = Compile(oci::DefaultSeccompProfile(caps));
    ASSERT_TRUE(filter.has_value()) << filter.error().message();
    EXPECT_FALSE(filter->needs_listener);
  }
}

TEST(DefaultProfile, DeniesNamespacesMountsAndKeyrings) {
  if (!IsRoot()) {
    GTEST_SKIP() << "needs root: without the filter unshare and mount must be able to succeed";
  }
  // Without the filter, the same calls succeed: the checks below test the filter, not the
  // kernel's own permission checks.
  ChildOutcome bare = RunInChild([] { return ::unshare(CLONE_NEWNS) == 0 ? 0 : 1; });
  ASSERT_EQ(bare.exit_code, 0) << bare.output;

  ChildOutcome outcome = RunConfined(kDefaultCaps, [] {
    if (!FailsWith(::unshare(CLONE_NEWNS), EPERM)) {
      return 1;
    }
    if (!FailsWith(::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
                   EPERM)) {
      return 2;
    }
    // Calls that, unfiltered, fail with another errno (ENOENT, EINVAL, ESRCH) and change
    // nothing: the child still shares the host's mount namespace here.
    if (!FailsWith(::mount("/", "/nonexistent-comet-test", nullptr, MS_BIND, nullptr), EPERM)) {
      return 3;
    }
    // clone with a namespace flag; the raw syscall, as glibc's clone() needs a stack.
    if (!FailsWith(::syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), EPERM)) {
      return 4;
    }
    if (!FailsWith(::syscall(SYS_clone3, nullptr, 0), ENOSYS)) {
      return 5;
    }
    if (!FailsWith(::setns(0, 0), EPERM)) {
      return 6;
    }
    if (!FailsWith(::personality(PER_BSD), EPERM)) {
      return 7;
    }
    if (!FailsWith(::syscall(SYS_ptrace, PTRACE_ATTACH, 0x7ffffff0, 0, 0), EPERM)) {
      return 8;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(DefaultProfile, LeavesOrdinaryCallsWorking) {
  ChildOutcome outcome = RunConfined(kDefaultCaps, [] {
    if (::getpid() <= 0) {
      return 1;
    }
    if (!ForkWorks()) {
      return 2;
    }
    // pthread_create tries clone3 first and falls back to clone on ENOSYS.
    bool ran = false;
    std::thread([&] { ran = true; }).join();
    if (!ran) {
      return 3;
    }
    const int persona = ::personality(0xffffffff);
    if (persona < 0 || ::personality(PER_LINUX32) < 0 || ::personality(persona) < 0) {
      return 4;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(DefaultProfile, KeptSysAdminAllowsNamespaces) {
  if (!IsRoot()) {
    GTEST_SKIP() << "needs root to create namespaces";
  }
  ChildOutcome outcome = RunConfined({"CAP_SYS_ADMIN"}, [] {
    if (::unshare(CLONE_NEWNS) != 0) {
      return 1;
    }
    if (!ForkWorks()) {
      return 2;
    }
    if (!FailsWith(::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
                   EPERM)) {
      return 3;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::seccomp
