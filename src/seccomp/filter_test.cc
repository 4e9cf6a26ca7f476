// Tests of seccomp::Compile and seccomp::Install. Filters are installed in forked children that set
// no_new_privs first, so no root is needed and the test process stays unfiltered.
#include "seccomp/filter.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/in_child.h"

namespace comet::seccomp {
namespace {

using testing::ChildOutcome;
using testing::RunInChild;

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  return {.names = std::move(names),
          .action = std::move(action),
          .errno_ret = errno_ret,
          .args = std::move(args)};
}

oci::SeccompArg Arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
  return {.index = index, .value = value, .value_two = value_two, .op = std::move(op)};
}

oci::Seccomp Profile(std::string default_action, std::vector<oci::SeccompSyscall> syscalls) {
  oci::Seccomp profile;
  profile.default_action = std::move(default_action);
  profile.syscalls = std::move(syscalls);
  return profile;
}

std::string CompileError(const oci::Seccomp& profile) {
  auto filter = Compile(profile);
  return filter ? "compiled" : filter.error().message();
}

bool SameProgram(const CompiledFilter& a, const CompiledFilter& b) {
  return a.program.size() == b.program.size() &&
         std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)) ==
             0;
}

// Installs `filter` in a forked child, then runs `body(listener fd or 0)` there. Exit code 100
// means Install failed. Core dumps are off, since several tests die of SIGSYS on purpose.
ChildOutcome RunFiltered(const CompiledFilter& filter, const std::function<int(int)>& body) {
  return RunInChild([&] {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::alarm(10);  // a filter that blocks the child forever fails the test instead of hanging it
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return 99;
    }
    const int fd = Install(filter);
    if (fd < 0) {
      return 100;
    }
    return body(fd);
  });
}

// 0 when syscall(nr, a0, a1) fails with errno `want`; otherwise a code saying what it did.
int ExpectErrno(long nr, long a0, long a1, int want) {
  errno = 0;
  const long rc = ::syscall(nr, a0, a1);
  return rc == -1 && errno == want ? 0 : (rc == -1 ? 2 : 3);
}

int ExpectSuccess(long nr, long a0, long a1) {
  return ::syscall(nr, a0, a1) >= 0 ? 0 : 4;
}

TEST(SeccompCompile, ErrorsNameTheField) {
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_ERRNO"),
                                                    Rule({"getpid"}, "SCMP_ACT_FOO")})),
            "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_BAR", {})),
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BAR\"");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_NOTIFY", {})),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW",
                                 {Rule({"getppid"}, "SCMP_ACT_ERRNO", std::nullopt,
                                       {Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_XX", 1)})})),
            "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_XX\"");
  EXPECT_EQ(
      CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                   {Arg(6, "SCMP_CMP_EQ", 1)})})),
      "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0-5)");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_ERRNO", 70000)})),
            "linux.seccomp.syscalls[0].action: errnoRet 70000 out of range");

  auto profile = Profile("SCMP_ACT_ALLOW", {});
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_EQ(CompileError(profile),
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  profile.architectures.clear();
  profile.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE"};
  EXPECT_EQ(CompileError(profile),
            "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
}

TEST(SeccompCompile, AcceptsEveryArchitectureAndMapsFlags) {
  auto profile =
      Profile("SCMP_ACT_ERRNO", {Rule({"read", "write", "exit_group"}, "SCMP_ACT_ALLOW")});
  profile.architectures = {
      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"};
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto filter = Compile(profile);
  ASSERT_TRUE(filter) << filter.error().ToString();
  EXPECT_EQ(filter->flags,
            SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  EXPECT_FALSE(filter->needs_listener);
  auto native_only = Compile(Profile("SCMP_ACT_ERRNO", {Rule({"read"}, "SCMP_ACT_ALLOW")}));
  ASSERT_TRUE(native_only);
  EXPECT_GT(filter->program.size(), native_only->program.size());
}

TEST(SeccompCompile, SkipsUnknownSyscallsAndRulesEqualToTheDefault) {
  auto empty = Compile(Profile("SCMP_ACT_ERRNO", {}));
  ASSERT_TRUE(empty);
  auto unknown = Compile(Profile("SCMP_ACT_ERRNO", {Rule({"comet_no_such_call"}, "SCMP_ACT_ALLOW"),
                                                    Rule({"getppid"}, "SCMP_ACT_ERRNO", EPERM)}));
  ASSERT_TRUE(unknown) << unknown.error().ToString();
  EXPECT_TRUE(SameProgram(*empty, *unknown));
  auto notify =
      Compile(Profile("SCMP_ACT_ALLOW", {Rule({"comet_no_such_call"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_TRUE(notify);
  EXPECT_FALSE(notify->needs_listener);
  auto known = Compile(
      Profile("SCMP_ACT_ERRNO", {Rule({"comet_no_such_call", "getppid"}, "SCMP_ACT_ALLOW")}));
  ASSERT_TRUE(known);
  EXPECT_FALSE(SameProgram(*empty, *known));
}

TEST(SeccompInstall, ErrnoRetOnGetcwdAndMkdir) {
  auto filter = Compile(
      Profile("SCMP_ACT_ALLOW", {Rule({"getcwd", "mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 42)}));
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto outcome = RunFiltered(*filter, [](int) {
    std::array<char, 256> buf{};
    if (::getcwd(buf.data(), buf.size()) != nullptr || errno != 42) {
      return 1;
    }
    if (::mkdir("/comet-seccomp-test/missing/dir", 0700) == 0 || errno != 42) {
      return 2;
    }
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// No rule left (unknown syscalls only): the default action alone decides.
TEST(SeccompInstall, AProfileWithNoKnownSyscallKeepsItsDefault) {
  auto filter =
      Compile(Profile("SCMP_ACT_ALLOW", {Rule({"comet_no_such_call"}, "SCMP_ACT_ERRNO", EPERM)}));
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto outcome = RunFiltered(*filter, [](int) {
    return ExpectSuccess(SYS_getppid, 0, 0) + ExpectSuccess(SYS_getpid, 0, 0);
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Enough rules for a binary tree over the syscall numbers: the listed calls (on both sides of
// the tree) meet their action, the others the default.
TEST(SeccompInstall, ManyRulesDecideAsFew) {
  auto filter = Compile(Profile(
      "SCMP_ACT_ALLOW", {Rule({"getcwd", "mkdir", "mkdirat", "rmdir", "chdir", "fchdir", "link",
                               "symlink", "unlink", "unlinkat", "getppid", "acct", "swapoff"},
                              "SCMP_ACT_ERRNO", 43)}));
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto outcome = RunFiltered(*filter, [](int) {
    return ExpectErrno(SYS_getppid, 0, 0, 43) + ExpectErrno(SYS_rmdir, 0, 0, 43) +
           ExpectErrno(SYS_swapoff, 0, 0, 43) + ExpectErrno(SYS_getcwd, 0, 0, 43) +
           10 * ExpectSuccess(SYS_getpid, 0, 0) + 10 * ExpectSuccess(SYS_gettid, 0, 0);
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(SeccompInstall, KillActionsKillWithSigsys) {
  for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"}) {
    auto filter = Compile(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, action)}));
    ASSERT_TRUE(filter) << filter.error().ToString();
    auto outcome = RunFiltered(*filter, [](int) {
      ::syscall(SYS_getppid);
      return 1;
    });
    EXPECT_EQ(outcome.signal, SIGSYS) << action << " exit " << outcome.exit_code;
  }
}

// si_code of a SIGSYS raised by SECCOMP_RET_TRAP (SYS_SECCOMP in <asm-generic/siginfo.h>, which
// glibc's <signal.h> does not export).
constexpr int kSysSeccomp = 1;
volatile sig_atomic_t g_trapped_syscall = -1;

void OnSigsys(int /*sig*/, siginfo_t* info, void* /*context*/) {
  g_trapped_syscall = info->si_code == kSysSeccomp ? info->si_syscall : -2;
}

TEST(SeccompInstall, TrapDeliversSigsysToTheHandler) {
  auto filter = Compile(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_TRAP")}));
  ASSERT_TRUE(filter);
  auto outcome = RunInChild([&] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigsys;
    sa.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSYS, &sa, nullptr);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || Install(*filter) != 0) {
      return 100;
    }
    ::syscall(SYS_getppid);
    return g_trapped_syscall == SYS_getppid ? 0 : 1;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(SeccompInstall, LogAllowsAndTraceWithoutTracerFailsWithEnosys) {
  auto filter = Compile(Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_LOG"),
                                                   Rule({"getpid"}, "SCMP_ACT_TRACE", 42)}));
  ASSERT_TRUE(filter);
  const pid_t parent = ::getpid();
  auto outcome = RunFiltered(*filter, [&](int) {
    if (::syscall(SYS_getppid) != parent) {
      return 1;
    }
    return ExpectErrno(SYS_getpid, 0, 0, ENOSYS);  // seccomp(2): "no tracer: ENOSYS"
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(SeccompInstall, ArgFilterOnPersonality) {
  auto filter =
      Compile(Profile("SCMP_ACT_ALLOW", {Rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                              {Arg(0, "SCMP_CMP_EQ", 0xffffffff)})}));
  ASSERT_TRUE(filter);
  auto outcome = RunFiltered(*filter, [](int) {
    if (const int rc = ExpectErrno(SYS_personality, 0xffffffff, 0, EPERM); rc != 0) {
      return rc;
    }
    return ExpectSuccess(SYS_personality, 0 /* PER_LINUX */, 0);
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// getppid ignores its arguments, but seccomp sees the registers: a harmless syscall to probe with.
TEST(SeccompInstall, ComparisonOperators) {
  struct Case {
    const char* op;
    long blocked;
    long allowed;
  };
  for (const Case& c :
       {Case{"SCMP_CMP_EQ", 5, 6}, Case{"SCMP_CMP_NE", 6, 5}, Case{"SCMP_CMP_LT", 4, 5},
        Case{"SCMP_CMP_LE", 5, 6}, Case{"SCMP_CMP_GE", 5, 4}, Case{"SCMP_CMP_GT", 6, 5}}) {
    auto filter = Compile(
        Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_ERRNO", 42, {Arg(0, c.op, 5)})}));
    ASSERT_TRUE(filter) << c.op;
    auto outcome = RunFiltered(*filter, [&](int) {
      if (const int rc = ExpectErrno(SYS_getppid, c.blocked, 0, 42); rc != 0) {
        return rc;
      }
      return ExpectSuccess(SYS_getppid, c.allowed, 0);
    });
    EXPECT_EQ(outcome.exit_code, 0) << c.op << outcome.output;
  }
}

TEST(SeccompInstall, MaskedEq) {
  // (arg0 & 0xff00) == 0x1200
  auto filter = Compile(Profile(
      "SCMP_ACT_ALLOW",
      {Rule({"getppid"}, "SCMP_ACT_ERRNO", 42, {Arg(0, "SCMP_CMP_MASKED_EQ", 0xff00, 0x1200)})}));
  ASSERT_TRUE(filter);
  auto outcome = RunFiltered(*filter, [](int) {
    if (const int rc = ExpectErrno(SYS_getppid, 0x12ab, 0, 42); rc != 0) {
      return rc;
    }
    return ExpectSuccess(SYS_getppid, 0x13ab, 0);
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Conditions on one argument are alternatives; conditions on different arguments all apply.
TEST(SeccompInstall, RepeatedArgIndexMeansOrAcrossAndBetweenIndexes) {
  auto filter = Compile(Profile(
      "SCMP_ACT_ALLOW",
      {Rule({"getppid"}, "SCMP_ACT_ERRNO", 42,
            {Arg(0, "SCMP_CMP_EQ", 1), Arg(0, "SCMP_CMP_EQ", 2), Arg(1, "SCMP_CMP_EQ", 5)})}));
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto outcome = RunFiltered(*filter, [](int) {
    for (long a0 : {1, 2}) {
      if (ExpectErrno(SYS_getppid, a0, 5, 42) != 0) {
        return 10 + static_cast<int>(a0);
      }
    }
    if (ExpectSuccess(SYS_getppid, 1, 6) != 0) {
      return 20;
    }
    return ExpectSuccess(SYS_getppid, 3, 5) != 0 ? 21 : 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(SeccompInstall, DefaultErrnoWithAllowList) {
  auto profile =
      Profile("SCMP_ACT_ERRNO", {Rule({"exit_group", "exit", "getpid"}, "SCMP_ACT_ALLOW"),
                                 Rule({"comet_no_such_call"}, "SCMP_ACT_ALLOW")});
  profile.default_errno_ret = 42;
  auto filter = Compile(profile);
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto outcome = RunFiltered(*filter, [](int) {
    int rc = ExpectErrno(SYS_getppid, 0, 0, 42);
    if (rc == 0) {
      rc = ExpectSuccess(SYS_getpid, 0, 0);
    }
    // Straight to exit_group: sanitizers hook _exit() to run checks this filter would block.
    ::syscall(SYS_exit_group, rc);
    return 5;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(SeccompInstall, NotifyReturnsAListenerThatAnswers) {
  auto profile = Profile("SCMP_ACT_ALLOW", {Rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};  // also checks the TSYNC_ESRCH pairing
  auto filter = Compile(profile);
  ASSERT_TRUE(filter);
  ASSERT_TRUE(filter->needs_listener);
  auto outcome = RunFiltered(*filter, [](int listener) {
    if (listener <= 0) {
      return 10;
    }
    int seen_nr = -1;
    // The supervisor answers one notification with errno 42. If it gives up, the blocked
    // getppid is ended by the child's alarm and the test fails with SIGALRM.
    std::thread supervisor([&] {
      pollfd pfd{.fd = listener, .events = POLLIN, .revents = 0};
      seccomp_notif req{};
      if (::poll(&pfd, 1, 5000) != 1 || ::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
        return;
      }
      seen_nr = req.data.nr;
      seccomp_notif_resp resp{.id = req.id, .val = 0, .error = -42, .flags = 0};
      ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    });
    const int rc = ExpectErrno(SYS_getppid, 0, 0, 42);
    supervisor.join();
    return seen_nr != SYS_getppid ? 11 : rc;
  });
  EXPECT_EQ(outcome.exit_code, 0) << "signal " << outcome.signal << " " << outcome.output;
}

}  // namespace
}  // namespace comet::seccomp
