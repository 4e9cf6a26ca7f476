// End-to-end: seccomp (errno with errnoRet, kill), maskedPaths and readonlyPaths.
#include "e2e/fixture.h"

namespace comet::e2e {
namespace {

using Security = PrivilegedRuntimeTest;

nlohmann::json SeccompRule(const std::vector<std::string>& names, const std::string& action) {
  return {{"names", names}, {"action", action}};
}

TEST_F(Security, SeccompErrnoWithErrnoRet) {
  Bundle& bundle = NewBundle({"/bin/checker", "seccomp", "mkdir"});
  nlohmann::json rule = SeccompRule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO");
  rule["errnoRet"] = 13;  // EACCES, to tell it apart from a default EPERM
  bundle.linux_section()["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                       {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
                                       {"syscalls", {rule}}};
  EXPECT_EQ(RunChecker(bundle)["errname"], "EACCES");
  bundle.SetArgs({"/bin/checker", "seccomp", "getcwd"});
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK") << "other syscalls stay allowed";
  bundle.SetArgs({"/bin/checker", "nnp"});
  EXPECT_EQ(RunChecker(bundle)["Seccomp"], "2") << "filter mode";
}

TEST_F(Security, SeccompErrnoDefaultsToEperm) {
  Bundle& bundle = NewBundle({"/bin/checker", "seccomp", "getcwd"});
  bundle.linux_section()["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                       {"syscalls", {SeccompRule({"getcwd"}, "SCMP_ACT_ERRNO")}}};
  EXPECT_EQ(RunChecker(bundle)["errname"], "EPERM");
}

TEST_F(Security, SeccompDefaultErrnoWithAllowList) {
  Bundle& bundle = NewBundle({"/bin/checker", "seccomp", "sync"});
  // An allow list: the default denies, the rule allows what the checker and the runtime need
  // after the filter is installed.
  bundle.linux_section()["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 38},  // ENOSYS
      {"syscalls",
       {SeccompRule(
           {"execve", "execveat", "brk", "arch_prctl", "set_tid_address", "exit_group", "exit",
            "write", "writev", "read", "close", "mmap", "munmap", "mprotect", "uname", "readlink",
            "readlinkat", "fstat", "newfstatat", "rt_sigaction", "rt_sigprocmask",
            "set_robust_list", "rseq", "prlimit64", "getrandom", "capget", "capset", "prctl",
            "setgroups", "setresuid", "setresgid", "setuid", "setgid", "getppid", "getpid", "futex",
            "close_range", "dup2", "dup3", "fcntl", "openat", "epoll_pwait", "nanosleep", "getcwd",
            "chdir",
            // what a runtime may still call between installing the filter and execve
            "fstatfs", "statfs", "sched_yield", "sigaltstack", "gettid", "tgkill", "madvise",
            "clone", "mincore", "getdents64", "epoll_ctl", "epoll_create1", "pipe2", "rt_sigreturn",
            "wait4", "sched_getaffinity", "fchdir", "getuid", "getgid", "geteuid", "getegid",
            "kill", "lseek", "pread64", "newuname", "fchown", "fchmod", "umask", "setsid", "ioctl",
            "poll", "ppoll", "epoll_wait", "faccessat", "faccessat2", "access", "stat", "lstat"},
           "SCMP_ACT_ALLOW")}}};
  EXPECT_EQ(RunChecker(bundle)["errname"], "ENOSYS");
}

TEST_F(Security, SeccompKill) {
  Bundle& bundle = NewBundle({"/bin/checker", "seccomp", "getcwd"});
  bundle.linux_section()["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {SeccompRule({"getcwd"}, "SCMP_ACT_KILL_PROCESS")}}};
  bundle.Write();
  const std::string id = NewId();
  ProcResult r = Run(bundle, id);
  EXPECT_EQ(r.exit_code, 128 + 31) << "killed by SIGSYS\n" << r.Describe();
  ExpectNothingLeft(id, bundle);
}

TEST_F(Security, MaskedPaths) {
  Bundle& bundle = NewBundle({"/bin/checker", "stat", "/proc/keys"});
  bundle.linux_section()["maskedPaths"] = {"/proc/keys", "/proc/kcore", "/sys/firmware",
                                           "/proc/does-not-exist"};
  auto file = RunChecker(bundle);
  EXPECT_EQ(file["type"], "chr") << "a masked file is /dev/null bound over it";
  EXPECT_EQ(file["rdev"], "1:3");
  bundle.SetArgs({"/bin/checker", "mounts"});
  bundle.Write();
  ProcResult r = Run(bundle, NewId());
  ASSERT_TRUE(r.ok()) << r.Describe();
  const MountLine* firmware = FindMount(ParseMounts(r.out), "/sys/firmware");
  ASSERT_NE(firmware, nullptr) << r.out;
  EXPECT_EQ(firmware->fstype, "tmpfs") << "a masked directory is an empty read-only tmpfs";
  EXPECT_TRUE(firmware->HasOption("ro"));
}

TEST_F(Security, ReadonlyPaths) {
  Bundle& bundle = NewBundle({"/bin/checker", "write", "/proc/sys/kernel/domainname"});
  bundle.linux_section()["readonlyPaths"] = {"/proc/sys", "/proc/does-not-exist"};
  EXPECT_EQ(RunChecker(bundle)["errname"], "EROFS");
  bundle.linux_section()["readonlyPaths"] = nlohmann::json::array();
  EXPECT_EQ(RunChecker(bundle)["errname"], "OK") << "writable without readonlyPaths (own uts ns)";
}

}  // namespace
}  // namespace comet::e2e
