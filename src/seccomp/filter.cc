// Compile(): OCI seccomp profile -> libseccomp filter -> raw BPF. Install(): one seccomp(2) call.
// Thread-safe (no shared state).
#include "seccomp/filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::seccomp {
namespace {

constexpr std::string_view kField = "linux.seccomp";
// seccomp(2) rejects longer programs (BPF_MAXINSNS).
constexpr size_t kMaxInstructions = 4096;
// A bound on the rules one syscalls[] entry may expand to (see RuleConditions).
constexpr size_t kMaxRulesPerName = 256;
constexpr unsigned kArgCount = 6;

template <class T>
struct NamedValue {
  std::string_view name;
  T value;
};

template <class T, size_t N>
std::optional<T> Lookup(const std::array<NamedValue<T>, N>& table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) {
      return entry.value;
    }
  }
  return std::nullopt;
}

// The architectures libseccomp 2.5 knows, under the names the runtime-spec uses.
constexpr std::array kArchitectures{
    NamedValue<uint32_t>{"SCMP_ARCH_X86", SCMP_ARCH_X86},
    NamedValue<uint32_t>{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    NamedValue<uint32_t>{"SCMP_ARCH_X32", SCMP_ARCH_X32},
    NamedValue<uint32_t>{"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    NamedValue<uint32_t>{"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    NamedValue<uint32_t>{"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    NamedValue<uint32_t>{"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    NamedValue<uint32_t>{"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    NamedValue<uint32_t>{"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    NamedValue<uint32_t>{"SCMP_ARCH_S390", SCMP_ARCH_S390},
    NamedValue<uint32_t>{"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    NamedValue<uint32_t>{"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    NamedValue<uint32_t>{"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    NamedValue<uint32_t>{"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

constexpr std::array kOperators{
    NamedValue<scmp_compare>{"SCMP_CMP_NE", SCMP_CMP_NE},
    NamedValue<scmp_compare>{"SCMP_CMP_LT", SCMP_CMP_LT},
    NamedValue<scmp_compare>{"SCMP_CMP_LE", SCMP_CMP_LE},
    NamedValue<scmp_compare>{"SCMP_CMP_EQ", SCMP_CMP_EQ},
    NamedValue<scmp_compare>{"SCMP_CMP_GE", SCMP_CMP_GE},
    NamedValue<scmp_compare>{"SCMP_CMP_GT", SCMP_CMP_GT},
    NamedValue<scmp_compare>{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// Only the seccomp(2) flags that change how the filter is installed; libseccomp's attributes of
// the same names only matter to seccomp_load(), which we do not use.
constexpr std::array kFlags{
    NamedValue<unsigned>{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    NamedValue<unsigned>{"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    NamedValue<unsigned>{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    NamedValue<unsigned>{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                         SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
#endif
};

// `errno_ret` is errnoRet (or defaultErrnoRet); it only matters to ERRNO and TRACE.
Result<uint32_t> ParseAction(std::string_view name, std::optional<uint32_t> errno_ret,
                             const std::string& field) {
  const uint32_t data = errno_ret.value_or(EPERM);
  // The kernel keeps 16 bits of data; a larger value would wrap (65536 -> "succeed with 0").
  if (data > 0xffff) {
    return Err(Error::Invalid(fmt::format("{}: errnoRet {} out of range", field, data)));
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") {
    return SCMP_ACT_KILL_THREAD;
  }
  if (name == "SCMP_ACT_KILL_PROCESS") {
    return SCMP_ACT_KILL_PROCESS;
  }
  if (name == "SCMP_ACT_TRAP") {
    return SCMP_ACT_TRAP;
  }
  if (name == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(data);
  }
  if (name == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(data);
  }
  if (name == "SCMP_ACT_ALLOW") {
    return SCMP_ACT_ALLOW;
  }
  if (name == "SCMP_ACT_LOG") {
    return SCMP_ACT_LOG;
  }
  if (name == "SCMP_ACT_NOTIFY") {
    return SCMP_ACT_NOTIFY;
  }
  return Err(Error::Invalid(fmt::format("{}: unknown action \"{}\"", field, name)));
}

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

// The rules (each a list of conditions ANDed by libseccomp) that one syscalls[] entry becomes.
// The OCI args are ANDed, but libseccomp cannot AND two conditions on the same argument (it
// fails with EINVAL). Like runc and crun we read conditions on the same argument as
// alternatives (OR), which is what profiles mean by `arg0 == A, arg0 == B`; unlike them we keep
// the AND across different arguments, by emitting one rule per combination: for
// [a0==1, a0==2, a1==5] the rules are {a0==1, a1==5} and {a0==2, a1==5}. A range written as
// [a0>=X, a0<=Y] therefore matches every value, as it does in runc and crun.
Result<std::vector<std::vector<scmp_arg_cmp>>> RuleConditions(const oci::SeccompSyscall& syscall,
                                                              const std::string& field) {
  std::array<std::vector<scmp_arg_cmp>, kArgCount> by_index;
  for (size_t j = 0; j < syscall.args.size(); ++j) {
    const oci::SeccompArg& arg = syscall.args[j];
    if (arg.index >= kArgCount) {
      return Err(Error::Invalid(fmt::format("{}.args[{}].index: {} out of range (0-{})", field, j,
                                            arg.index, kArgCount - 1)));
    }
    const auto op = Lookup(kOperators, arg.op);
    if (!op) {
      return Err(
          Error::Invalid(fmt::format("{}.args[{}].op: unknown operator \"{}\"", field, j, arg.op)));
    }
    by_index[arg.index].push_back(
        scmp_arg_cmp{.arg = arg.index, .op = *op, .datum_a = arg.value, .datum_b = arg.value_two});
  }
  std::vector<std::vector<scmp_arg_cmp>> rules{{}};
  for (const auto& alternatives : by_index) {
    if (alternatives.empty()) {
      continue;
    }
    if (rules.size() * alternatives.size() > kMaxRulesPerName) {
      return Err(Error::Invalid(fmt::format("{}.args: too many alternative conditions", field)));
    }
    std::vector<std::vector<scmp_arg_cmp>> next;
    for (const auto& rule : rules) {
      for (const scmp_arg_cmp& cmp : alternatives) {
        next.push_back(rule);
        next.back().push_back(cmp);
      }
    }
    rules = std::move(next);
  }
  return rules;
}

Status AddSyscallRules(void* ctx, const oci::SeccompSyscall& syscall, uint32_t default_action,
                       const std::string& field, bool& uses_notify, size_t& rules_added) {
  ASSIGN_OR_RETURN(const uint32_t action,
                   ParseAction(syscall.action, syscall.errno_ret, field + ".action"));
  ASSIGN_OR_RETURN(const auto rules, RuleConditions(syscall, field));
  // libseccomp rejects a rule that repeats the default action (EACCES); it would be a no-op.
  if (action == default_action) {
    return Ok();
  }
  for (const std::string& name : syscall.names) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      // Profiles list syscalls of newer kernels and other architectures; skip, like runc.
      log::Debug("seccomp: skipping unknown syscall \"{}\" in {}", name, field);
      continue;
    }
    for (const auto& conditions : rules) {
      const int rc =
          seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()),
                                 conditions.empty() ? nullptr : conditions.data());
      if (rc < 0) {
        return Err(Error::FromCode(-rc, fmt::format("{}: adding a rule for \"{}\"", field, name)));
      }
      ++rules_added;
    }
    uses_notify = uses_notify || action == SCMP_ACT_NOTIFY;
  }
  return Ok();
}

Result<std::vector<sock_filter>> ExportProgram(void* ctx) {
  os::UniqueFd fd(::memfd_create("comet-seccomp", MFD_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("memfd_create", "seccomp program"));
  }
  if (const int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) {
    return Err(Error::FromCode(-rc, "exporting the seccomp program"));
  }
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) {
    return Err(Error::FromErrno("lseek", "seccomp program"));
  }
  ASSIGN_OR_RETURN(const std::string bytes,
                   os::ReadFd(fd.get(), (kMaxInstructions + 1) * sizeof(sock_filter)));
  const size_t count = bytes.size() / sizeof(sock_filter);
  if (bytes.size() % sizeof(sock_filter) != 0 || count == 0) {
    return Err(Error::Invalid(
        fmt::format("libseccomp exported a malformed program ({} bytes)", bytes.size())));
  }
  if (count > kMaxInstructions) {
    return Err(Error::Invalid(fmt::format("{}: the profile compiles to more than {} instructions",
                                          kField, kMaxInstructions)));
  }
  std::vector<sock_filter> program(count);
  std::memcpy(program.data(), bytes.data(), bytes.size());
  return program;
}

// The fewest rules compiled to a binary tree (Compile).
constexpr size_t kMinRulesForTree = 8;

}  // namespace

Result<CompiledFilter> Compile(const oci::Seccomp& profile) {
  const std::string field(kField);
  ASSIGN_OR_RETURN(
      const uint32_t default_action,
      ParseAction(profile.default_action, profile.default_errno_ret, field + ".defaultAction"));
  // Every syscall the init makes after installing (sending the listener fd, execve) would wait
  // for a listener that nobody serves yet.
  if (default_action == SCMP_ACT_NOTIFY) {
    return Err(Error::Invalid(field + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default"));
  }
  CompiledFilter filter;
  for (size_t i = 0; i < profile.flags.size(); ++i) {
    const auto flag = Lookup(kFlags, profile.flags[i]);
    if (!flag) {
      return Err(Error::Invalid(
          fmt::format("{}.flags[{}]: unknown flag \"{}\"", field, i, profile.flags[i])));
    }
    filter.flags |= *flag;
  }

  Context ctx(seccomp_init(default_action));
  if (!ctx) {
    return Err(Error::Invalid(fmt::format("{}.defaultAction: libseccomp rejected \"{}\"", field,
                                          profile.default_action)));
  }
  // Architectures first: libseccomp applies a rule only to the architectures present when the
  // rule is added. The native one is already in the context (EEXIST when listed again).
  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    const auto arch = Lookup(kArchitectures, profile.architectures[i]);
    if (!arch) {
      return Err(Error::Invalid(fmt::format("{}.architectures[{}]: unknown architecture \"{}\"",
                                            field, i, profile.architectures[i])));
    }
    const int rc = seccomp_arch_add(ctx.get(), *arch);
    if (rc == -EDOM) {
      // libseccomp cannot mix little- and big-endian architectures in one program. Leaving the
      // foreign ones out fails closed: a process of a missing architecture meets the bad-arch
      // action (kill). Profiles written for many hosts list them all, so this is not an error.
      log::Debug("seccomp: skipping {} (byte order differs from the native architecture)",
                 profile.architectures[i]);
      continue;
    }
    if (rc < 0 && rc != -EEXIST) {
      return Err(Error::FromCode(
          -rc, fmt::format("{}.architectures[{}]: adding {}", field, i, profile.architectures[i])));
    }
  }
  size_t rules = 0;
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    RETURN_IF_ERROR(AddSyscallRules(ctx.get(), profile.syscalls[i], default_action,
                                    fmt::format("{}.syscalls[{}]", field, i), filter.needs_listener,
                                    rules));
  }
  // A binary tree over the syscall numbers instead of libseccomp's default linear list: the
  // kernel walks the program for every syscall number when the filter is attached (to cache
  // the ones always allowed), which a 300-rule list makes a large part of a container's start;
  // the processes' own syscalls are tested in fewer steps too. Same decisions either way. Only
  // from 8 rules on (as runc): libseccomp before 2.5.4 (seccomp#370) lost the default action of
  // a tree with no rules.
  if (rules >= kMinRulesForTree) {
    if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0) {
      log::Debug("seccomp: no binary tree: {}", Error::FromCode(-rc, "libseccomp").ToString());
    }
  }
  ASSIGN_OR_RETURN(filter.program, ExportProgram(ctx.get()));
  return filter;
}

int Install(const CompiledFilter& filter) noexcept {
  if (filter.program.empty() || filter.program.size() > kMaxInstructions) {
    return -EINVAL;
  }
  sock_fprog prog{.len = static_cast<unsigned short>(filter.program.size()),
                  .filter = const_cast<sock_filter*>(filter.program.data())};
  unsigned long flags = filter.flags;
  if (filter.needs_listener) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // With TSYNC, seccomp(2) reports a thread it could not sync by returning its tid, which
    // could not be told from a listener fd; TSYNC_ESRCH makes that case fail with ESRCH.
    if ((flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) {
      flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  }
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) {
    return -errno;
  }
  if (!filter.needs_listener) {
    return rc == 0 ? 0 : -ESRCH;  // rc > 0: the tid of a thread TSYNC could not sync
  }
  return static_cast<int>(rc);
}

}  // namespace comet::seccomp
