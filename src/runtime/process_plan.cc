// ProcessPlan construction.
#include "runtime/process_plan.h"

#include <fcntl.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "os/file.h"
#include "seccomp/filter_cache.h"

namespace comet::runtime {
namespace {

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int kCapSysResource = 24;

struct RlimitName {
  std::string_view name;
  int resource;
};

constexpr std::array<RlimitName, 16> kRlimits = {{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};

Result<uint64_t> CapabilityMask(const std::vector<std::string>& names, const std::string& field,
                                int last_cap) {
  uint64_t mask = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    ASSIGN_OR_RETURN(int cap, CapabilityNumber(names[i], fmt::format("{}[{}]", field, i)));
    if (cap > last_cap) {
      log::Warning("{}: {} is not known to this kernel; ignored", field, names[i]);
      continue;
    }
    mask |= uint64_t{1} << cap;
  }
  return mask;
}

Result<CapabilityPlan> BuildCapabilities(const oci::Process& process) {
  CapabilityPlan plan;
  plan.last_cap = LastCapability();
  plan.apply = true;
  if (!process.capabilities) {
    return plan;  // no capabilities block: every set is empty, as in runc
  }
  const oci::Capabilities& caps = *process.capabilities;
  ASSIGN_OR_RETURN(plan.bounding,
                   CapabilityMask(caps.bounding, "process.capabilities.bounding", plan.last_cap));
  ASSIGN_OR_RETURN(plan.effective,
                   CapabilityMask(caps.effective, "process.capabilities.effective", plan.last_cap));
  ASSIGN_OR_RETURN(plan.permitted,
                   CapabilityMask(caps.permitted, "process.capabilities.permitted", plan.last_cap));
  ASSIGN_OR_RETURN(
      plan.inheritable,
      CapabilityMask(caps.inheritable, "process.capabilities.inheritable", plan.last_cap));
  ASSIGN_OR_RETURN(plan.ambient,
                   CapabilityMask(caps.ambient, "process.capabilities.ambient", plan.last_cap));
  // The kernel drops ambient bits that are not also permitted and inheritable; do the same up
  // front instead of failing in PR_CAP_AMBIENT_RAISE.
  plan.ambient &= plan.permitted & plan.inheritable;
  return plan;
}

Result<std::vector<RlimitPlan>> BuildRlimits(const oci::Process& process) {
  std::vector<RlimitPlan> out;
  for (size_t i = 0; i < process.rlimits.size(); ++i) {
    const oci::Rlimit& limit = process.rlimits[i];
    const RlimitName* found = nullptr;
    for (const RlimitName& known : kRlimits) {
      if (known.name == limit.type) {
        found = &known;
      }
    }
    if (found == nullptr) {
      return Err(Error::Invalid(
          fmt::format("process.rlimits[{}].type: unknown rlimit \"{}\"", i, limit.type)));
    }
    RlimitPlan plan;
    plan.resource = found->resource;
    plan.value.rlim_cur = limit.soft;
    plan.value.rlim_max = limit.hard;
    plan.name = limit.type;
    out.push_back(std::move(plan));
  }
  return out;
}

std::string EnvValue(const std::vector<std::string>& env, std::string_view key) {
  for (const std::string& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=') {
      return entry.substr(key.size() + 1);
    }
  }
  return {};
}

std::vector<std::string> ExecCandidates(const oci::Process& process) {
  const std::string& program = process.args.front();
  if (program.find('/') != std::string::npos) {
    if (program.front() == '/') {
      return {program};
    }
    return {os::JoinPath(process.cwd, program)};
  }
  std::string path = EnvValue(process.env, "PATH");
  if (path.empty()) {
    path = kDefaultPath;
  }
  std::vector<std::string> candidates;
  for (const std::string& dir : Split(path, ':')) {
    candidates.push_back(os::JoinPath(dir.empty() ? "." : dir, program));
  }
  return candidates;
}

// The caller's stdio fds must be open now: the child only dup2s them and could not say which one
// was wrong.
Status CheckStdioFd(int fd, const char* field) {
  if (fd < -1) {
    return Err(Error::Invalid(fmt::format("stdio.{}: invalid fd {}", field, fd)));
  }
  if (fd >= 0 && ::fcntl(fd, F_GETFD) < 0) {
    return Err(Error::FromErrno("stdio." + std::string(field), "fd " + std::to_string(fd)));
  }
  return Ok();
}

}  // namespace

Result<int> CapabilityNumber(const std::string& name, const std::string& field) {
  cap_value_t value = 0;
  if (!StartsWith(name, "CAP_") || cap_from_name(name.c_str(), &value) != 0) {
    return Err(Error::Invalid(fmt::format("{}: unknown capability \"{}\"", field, name)));
  }
  return static_cast<int>(value);
}

int LastCapability() {
  auto text = os::ReadFileLimited("/proc/sys/kernel/cap_last_cap", 64);
  if (text) {
    if (auto value = ParseInt(TrimSpace(*text))) {
      return static_cast<int>(*value);
    }
  }
  return CAP_LAST_CAP;
}

// The kernel lets CAP_SYS_RESOURCE lower oom_score_adj only when held in the initial user
// namespace (capable()); in a user namespace of our own (a rootless pod's supervisor) it does not
// count. The initial namespace maps every id onto itself: "0 0 4294967295".
bool InInitialUserNamespace() {
  auto map = os::ReadFileLimited("/proc/self/uid_map", 4096);
  if (!map) {
    return true;
  }
  std::vector<std::string> words;
  for (const std::string& word : Split(TrimSpace(*map), ' ')) {
    if (!word.empty()) {
      words.push_back(word);
    }
  }
  return words == std::vector<std::string>{"0", "0", "4294967295"};
}

int ClampOomScoreAdj(int requested, bool other_user_ns) {
  auto current_text = os::ReadFileLimited("/proc/self/oom_score_adj", 64);
  auto current = current_text ? ParseInt(TrimSpace(*current_text)) : std::nullopt;
  if (!current || requested >= *current) {
    return requested;
  }
  cap_t caps = cap_get_proc();
  cap_flag_value_t has = CAP_CLEAR;
  if (caps != nullptr) {
    cap_get_flag(caps, kCapSysResource, CAP_EFFECTIVE, &has);
    cap_free(caps);
  }
  if (has == CAP_SET && !other_user_ns && InInitialUserNamespace()) {
    return requested;
  }
  log::Warning(
      "process.oomScoreAdj {} is below the current score {} and lowering it needs "
      "CAP_SYS_RESOURCE, which this process lacks; using {}",
      requested, *current, *current);
  return static_cast<int>(*current);
}

Result<ProcessPlan> BuildProcessPlan(const oci::Process& process,
                                     const ProcessPlanOptions& options) {
  if (process.args.empty() || process.args.front().empty()) {
    return Err(Error::Invalid("process.args: must name a program"));
  }
  ProcessPlan plan;
  plan.argv = CStringArray(process.args);
  plan.envp = CStringArray(process.env);
  plan.exec_candidates = ExecCandidates(process);
  plan.cwd = process.cwd.empty() ? "/" : process.cwd;
  plan.uid = process.user.uid;
  plan.gid = process.user.gid;
  plan.additional_gids.assign(process.user.additional_gids.begin(),
                              process.user.additional_gids.end());
  plan.set_groups = options.set_groups;
  if (process.user.umask) {
    plan.umask = static_cast<mode_t>(*process.user.umask);
  }
  ASSIGN_OR_RETURN(plan.capabilities, BuildCapabilities(process));
  ASSIGN_OR_RETURN(plan.rlimits, BuildRlimits(process));
  plan.no_new_privileges = process.no_new_privileges;
  if (process.oom_score_adj) {
    plan.oom_score_adj =
        std::to_string(ClampOomScoreAdj(*process.oom_score_adj, options.other_user_ns));
  }
  if (options.seccomp != nullptr) {
    auto compiled = seccomp::CompileCached(*options.seccomp, options.seccomp_cache_dir);
    if (!compiled) {
      return Err(std::move(compiled).error());
    }
    plan.seccomp = std::move(*compiled);
  }
  plan.terminal = process.terminal;
  if (process.console_size) {
    plan.console_rows = static_cast<unsigned short>(process.console_size->height);
    plan.console_cols = static_cast<unsigned short>(process.console_size->width);
  }
  plan.preserve_fds = options.preserve_fds;
  plan.session_keyring = options.session_keyring;
  plan.create_cwd = options.create_cwd;
  RETURN_IF_ERROR(CheckStdioFd(options.stdio.in, "in"));
  RETURN_IF_ERROR(CheckStdioFd(options.stdio.out, "out"));
  RETURN_IF_ERROR(CheckStdioFd(options.stdio.err, "err"));
  if (!process.terminal) {
    plan.stdio[0] = options.stdio.in;
    plan.stdio[1] = options.stdio.out;
    plan.stdio[2] = options.stdio.err;
  }
  return plan;
}

}  // namespace comet::runtime
