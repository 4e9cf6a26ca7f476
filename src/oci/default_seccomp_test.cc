// Tests of DefaultSeccompProfile: which syscalls it denies for which capabilities, and that its
// personality(2) conditions deny exactly the unsafe values. That the profile compiles and works
// in a process is tested in src/seccomp/default_profile_privileged_test.cc.
#include "oci/default_seccomp.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace comet::oci {
namespace {

const std::vector<std::string> kDefaultCaps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID",
                                               "CAP_SYS_CHROOT"};

// The rule that names `name`, or nullptr.
const SeccompSyscall* RuleFor(const Seccomp& profile, const std::string& name) {
  for (const SeccompSyscall& rule : profile.syscalls) {
    if (std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) {
      return &rule;
    }
  }
  return nullptr;
}

// True when `name` is denied unconditionally with `errno_value`.
bool Denied(const Seccomp& profile, const std::string& name, uint32_t errno_value = EPERM) {
  const SeccompSyscall* rule = RuleFor(profile, name);
  return rule != nullptr && rule->action == "SCMP_ACT_ERRNO" && rule->errno_ret == errno_value &&
         rule->args.empty();
}

// How the seccomp layer reads one rule's conditions on a single argument: alternatives.
bool Matches(const SeccompSyscall& rule, uint64_t arg) {
  return std::any_of(rule.args.begin(), rule.args.end(), [&](const SeccompArg& a) {
    return a.op == "SCMP_CMP_MASKED_EQ" && a.index == 0 && (arg & a.value) == a.value_two;
  });
}

bool PersonalityAllowed(uint64_t value) {
  return std::find(kAllowedPersonalities.begin(), kAllowedPersonalities.end(),
                   static_cast<uint32_t>(value)) != kAllowedPersonalities.end();
}

TEST(DefaultSeccompProfile, AllowsByDefaultOnNativeAndCompatArchitectures) {
  const Seccomp profile = DefaultSeccompProfile(kDefaultCaps);
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ALLOW");
  EXPECT_FALSE(profile.default_errno_ret.has_value());
#if defined(__x86_64__)
  EXPECT_EQ(profile.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
#endif
  EXPECT_EQ(RuleFor(profile, "read"), nullptr);
  EXPECT_EQ(RuleFor(profile, "execve"), nullptr);
}

TEST(DefaultSeccompProfile, NamesEachSyscallOnce) {
  const Seccomp profile = DefaultSeccompProfile(kDefaultCaps);
  std::set<std::string> seen;
  for (const SeccompSyscall& rule : profile.syscalls) {
    for (const std::string& name : rule.names) {
      EXPECT_TRUE(seen.insert(name).second) << name;
    }
  }
}

TEST(DefaultSeccompProfile, DeniesHostInterfacesWithEperm) {
  const Seccomp profile = DefaultSeccompProfile(kDefaultCaps);
  for (const char* name : {"init_module",
                           "finit_module",
                           "delete_module",
                           "kexec_load",
                           "kexec_file_load",
                           "reboot",
                           "swapon",
                           "swapoff",
                           "acct",
                           "settimeofday",
                           "clock_settime",
                           "clock_adjtime",
                           "adjtimex",
                           "stime",
                           "syslog",
                           "uselib",
                           "ustat",
                           "sysfs",
                           "_sysctl",
                           "lookup_dcookie",
                           "perf_event_open",
                           "bpf",
                           "userfaultfd",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "open_by_handle_at",
                           "name_to_handle_at",
                           "iopl",
                           "ioperm",
                           "quotactl",
                           "nfsservctl",
                           "vm86",
                           "vm86old",
                           "pciconfig_read",
                           "pciconfig_write",
                           "pciconfig_iobase",
                           "kcmp",
                           "process_vm_readv",
                           "process_vm_writev",
                           "ptrace",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "unshare",
                           "setns",
                           "fsopen",
                           "fsmount",
                           "fsconfig",
                           "move_mount",
                           "open_tree",
                           "fspick",
                           "mount_setattr"}) {
    EXPECT_TRUE(Denied(profile, name)) << name;
  }
}

TEST(DefaultSeccompProfile, DeniesCloneWithNamespaceFlagsOnly) {
  const Seccomp profile = DefaultSeccompProfile(kDefaultCaps);
  EXPECT_TRUE(Denied(profile, "clone3", ENOSYS));
  const SeccompSyscall* clone = RuleFor(profile, "clone");
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(clone->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone->errno_ret, EPERM);
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                        CLONE_NEWNET, CLONE_NEWCGROUP}) {
    EXPECT_TRUE(Matches(*clone, flag | SIGCHLD)) << flag;
    EXPECT_TRUE(Matches(*clone, flag | CLONE_VM | CLONE_NEWNS)) << flag;
  }
  // fork() and pthread_create() flags.
  EXPECT_FALSE(Matches(*clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD));
  EXPECT_FALSE(Matches(*clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                   CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                   CLONE_CHILD_CLEARTID));
}

TEST(DefaultSeccompProfile, KeptCapabilitiesLiftTheirRules) {
  const Seccomp admin = DefaultSeccompProfile({"CAP_SYS_ADMIN"});
  for (const char* name : {"mount", "umount2", "unshare", "setns", "fsopen", "clone", "clone3",
                           "bpf", "perf_event_open", "quotactl", "swapon"}) {
    EXPECT_EQ(RuleFor(admin, name), nullptr) << name;
  }
  EXPECT_TRUE(Denied(admin, "ptrace"));
  EXPECT_TRUE(Denied(admin, "keyctl"));
  EXPECT_TRUE(Denied(admin, "init_module"));

  const Seccomp ptrace = DefaultSeccompProfile({"CAP_SYS_PTRACE"});
  for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp"}) {
    EXPECT_EQ(RuleFor(ptrace, name), nullptr) << name;
  }
  EXPECT_TRUE(Denied(ptrace, "mount"));

  EXPECT_EQ(RuleFor(DefaultSeccompProfile({"CAP_SYS_TIME"}), "settimeofday"), nullptr);
  EXPECT_EQ(RuleFor(DefaultSeccompProfile({"CAP_SYS_MODULE"}), "init_module"), nullptr);
  EXPECT_EQ(RuleFor(DefaultSeccompProfile({"CAP_BPF"}), "bpf"), nullptr);
  // Some interfaces stay closed whatever the capabilities.
  const Seccomp all = DefaultSeccompProfile({"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME"});
  EXPECT_TRUE(Denied(all, "keyctl"));
  EXPECT_TRUE(Denied(all, "_sysctl"));
  EXPECT_NE(RuleFor(all, "personality"), nullptr);
}

TEST(DefaultSeccompProfile, PersonalityDeniesExactlyTheUnsafeValues) {
  const Seccomp profile = DefaultSeccompProfile(kDefaultCaps);
  const SeccompSyscall* rule = RuleFor(profile, "personality");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->action, "SCMP_ACT_ERRNO");
  for (uint32_t value : kAllowedPersonalities) {
    EXPECT_FALSE(Matches(*rule, value)) << std::hex << value;
    // The kernel reads an unsigned int: the upper half changes nothing.
    EXPECT_FALSE(Matches(*rule, (uint64_t{0xdead} << 32) | value)) << std::hex << value;
  }
  // Every value up to 2^18 (all combinations of the low bits, both safe bits among them)...
  for (uint64_t value = 0; value < (uint64_t{1} << 18); ++value) {
    ASSERT_EQ(Matches(*rule, value), !PersonalityAllowed(value)) << std::hex << value;
  }
  // ...the values near the query and each single bit, and random ones.
  for (uint64_t value = 0xffff0000; value <= 0xffffffff; ++value) {
    ASSERT_EQ(Matches(*rule, value), !PersonalityAllowed(value)) << std::hex << value;
  }
  std::mt19937_64 random(42);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t value = random() & 0xffffffff;
    ASSERT_EQ(Matches(*rule, value), !PersonalityAllowed(value)) << std::hex << value;
  }
  for (unsigned bit = 0; bit < 32; ++bit) {
    const uint64_t value = uint64_t{1} << bit;
    EXPECT_EQ(Matches(*rule, value), bit != 3 && bit != 17) << bit;
    EXPECT_TRUE(Matches(*rule, 0xffffffff & ~value)) << bit;
  }
}

}  // namespace
}  // namespace comet::oci
