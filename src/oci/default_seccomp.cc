// DefaultSeccompProfile; see default_seccomp.h. A deny list over an allow-all default, as the
// point is to close the kernel interfaces that are not namespaced (or that were the way out in
// known escapes) while every ordinary program keeps working unchanged.
#include "oci/default_seccomp.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

namespace comet::oci {
namespace {

// Syscalls denied with EPERM unless the container keeps one of `unless_caps` (none: always).
struct DeniedGroup {
  std::vector<std::string> names;
  std::vector<std::string_view> unless_caps;
};

std::vector<DeniedGroup> DeniedGroups() {
  return {
      // Kernel code and the machine itself: modules, kexec, reboot (CAP_SYS_BOOT lets a
      // container's reboot(2) end its own pid namespace, as pid_namespaces(7) describes).
      {{"init_module", "finit_module", "delete_module"}, {"CAP_SYS_MODULE"}},
      {{"kexec_load", "kexec_file_load", "reboot"}, {"CAP_SYS_BOOT"}},
      // Host-wide state that no namespace isolates: swap, process accounting, the kernel log,
      // the realtime clock (time namespaces cover only monotonic and boottime).
      {{"swapon", "swapoff"}, {"CAP_SYS_ADMIN"}},
      {{"acct"}, {"CAP_SYS_PACCT"}},
      {{"syslog"}, {"CAP_SYSLOG"}},
      {{"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
        "clock_adjtime64", "adjtimex"},
       {"CAP_SYS_TIME"}},
      {{"lookup_dcookie", "quotactl", "quotactl_fd", "pciconfig_read", "pciconfig_write",
        "pciconfig_iobase"},
       {"CAP_SYS_ADMIN"}},
      // Obsolete interfaces with a history of bugs and no use in a container.
      {{"uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old"}, {}},
      // Large kernel attack surfaces, gated by the capabilities the kernel itself asks for.
      {{"perf_event_open"}, {"CAP_PERFMON", "CAP_SYS_ADMIN"}},
      {{"bpf"}, {"CAP_BPF", "CAP_SYS_ADMIN"}},
      // userfaultfd stalls the kernel mid-copy, a staple of exploits; without
      // vm.unprivileged_userfaultfd the kernel asks for CAP_SYS_PTRACE too.
      {{"userfaultfd"}, {"CAP_SYS_PTRACE"}},
      // Keyrings are not namespaced: a container could read or fill the host's.
      {{"keyctl", "add_key", "request_key"}, {}},
      // File handles open any inode of a mounted filesystem, outside the container's root
      // (CVE-2014-3519, "shocker").
      {{"open_by_handle_at", "name_to_handle_at"}, {"CAP_DAC_READ_SEARCH"}},
      {{"iopl", "ioperm"}, {"CAP_SYS_RAWIO"}},
      // Reading or changing other processes: ptrace and its relatives (pidfd_getfd makes the
      // same PTRACE_MODE_ATTACH check).
      {{"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"},
       {"CAP_SYS_PTRACE"}},
      // Mounts and namespaces: the container's own are set up by the runtime; new ones (above
      // all user namespaces) open kernel code that assumes a privileged caller.
      {{"mount", "umount", "umount2", "pivot_root", "unshare", "setns", "fsopen", "fsmount",
        "fsconfig", "move_mount", "open_tree", "fspick", "mount_setattr"},
       {"CAP_SYS_ADMIN"}},
  };
}

// clone's flags argument: the first everywhere but s390, whose clone takes the stack first.
#if defined(__s390__) || defined(__s390x__)
constexpr uint32_t kCloneFlagsArg = 1;
#else
constexpr uint32_t kCloneFlagsArg = 0;
#endif

constexpr std::array<uint64_t, 7> kNamespaceFlags = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
                                                     CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
                                                     CLONE_NEWCGROUP};

SeccompSyscall Errno(std::vector<std::string> names, uint32_t errno_value,
                     std::vector<SeccompArg> args = {}) {
  return {.names = std::move(names),
          .action = "SCMP_ACT_ERRNO",
          .errno_ret = errno_value,
          .args = std::move(args)};
}

SeccompArg MaskedEq(uint32_t index, uint64_t mask, uint64_t value) {
  return {.index = index, .value = mask, .value_two = value, .op = "SCMP_CMP_MASKED_EQ"};
}

// clone with any namespace flag. The compiler reads several conditions on one argument as
// alternatives (seccomp/filter.h), so one condition per flag denies a call with any of them.
// clone3 passes its flags in memory, out of a filter's reach: it fails with ENOSYS, on which
// glibc (fork, pthread_create) falls back to clone.
std::vector<SeccompSyscall> CloneRules() {
  std::vector<SeccompArg> any_namespace;
  any_namespace.reserve(kNamespaceFlags.size());
  for (uint64_t flag : kNamespaceFlags) {
    any_namespace.push_back(MaskedEq(kCloneFlagsArg, flag, flag));
  }
  return {Errno({"clone"}, EPERM, std::move(any_namespace)), Errno({"clone3"}, ENOSYS)};
}

uint64_t Bit(unsigned n) {
  return uint64_t{1} << (n % 32);
}

// personality(2) takes an unsigned int (the kernel drops the upper 32 bits, so the conditions
// look at the lower 32 only), and every value but kAllowedPersonalities must be denied with
// conditions the compiler ORs. The allowed values but the 0xffffffff query are exactly the
// combinations of the "safe" bits 3 and 17; so a value is denied iff it has some other bit set
// and some bit clear. Such a value has a run of set bits (read cyclically) that holds an unsafe
// bit; where that run ends, bit p is set and bit p+1 clear; if p is a safe bit the run is longer
// than p, so bit p-1 is set. One masked comparison per bit p matches exactly that, and none
// matches an allowed value (each asks for a clear bit and for an unsafe bit set).
SeccompSyscall PersonalityRule() {
  uint64_t safe_bits = 0;
  for (uint32_t value : kAllowedPersonalities) {
    if (value != 0xffffffff) {
      safe_bits |= value;
    }
  }
  constexpr unsigned kBits = 32;
  std::vector<SeccompArg> denied;
  denied.reserve(kBits);
  for (unsigned p = 0; p < kBits; ++p) {
    uint64_t mask = Bit(p) | Bit(p + 1);
    uint64_t value = Bit(p);
    if ((safe_bits & Bit(p)) != 0) {
      mask |= Bit(p + 31);
      value |= Bit(p + 31);
    }
    denied.push_back(MaskedEq(0, mask, value));
  }
  return Errno({"personality"}, EPERM, std::move(denied));
}

std::vector<std::string> Architectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
  return {};  // the native architecture only
#endif
}

}  // namespace

Seccomp DefaultSeccompProfile(const std::vector<std::string>& effective_caps) {
  auto kept = [&](std::string_view cap) {
    return std::find(effective_caps.begin(), effective_caps.end(), cap) != effective_caps.end();
  };
  Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.architectures = Architectures();
  for (DeniedGroup& group : DeniedGroups()) {
    if (std::none_of(group.unless_caps.begin(), group.unless_caps.end(), kept)) {
      profile.syscalls.push_back(Errno(std::move(group.names), EPERM));
    }
  }
  if (!kept("CAP_SYS_ADMIN")) {
    for (SeccompSyscall& rule : CloneRules()) {
      profile.syscalls.push_back(std::move(rule));
    }
  }
  profile.syscalls.push_back(PersonalityRule());
  return profile;
}

}  // namespace comet::oci
