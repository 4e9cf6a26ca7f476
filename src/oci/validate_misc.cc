// Spec validation of linux.seccomp, rootfsPropagation, personality, timeOffsets, masked and
// read-only paths, cgroupsPath, and the rootless-only checks. See validate.h.
#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"
#include "oci/names.h"
#include "oci/validate_internal.h"

namespace comet::oci::internal {
namespace {

Status CheckSyscallRule(const SeccompSyscall& rule, const std::string& item) {
  if (rule.names.empty()) {
    return Err(FieldError(item + ".names", "must not be empty"));
  }
  if (!Contains(SeccompActions(), rule.action)) {
    return Err(
        FieldError(item + ".action", fmt::format("unknown seccomp action {}", Quote(rule.action))));
  }
  for (size_t j = 0; j < rule.args.size(); ++j) {
    const SeccompArg& arg = rule.args[j];
    std::string arg_path = fmt::format("{}.args[{}]", item, j);
    constexpr uint32_t kMaxArgs = 6;  // syscall arguments, seccomp_data.args
    if (arg.index >= kMaxArgs) {
      return Err(FieldError(arg_path + ".index", fmt::format("{} out of range [0, 5]", arg.index)));
    }
    if (!Contains(SeccompOperators(), arg.op)) {
      return Err(FieldError(arg_path + ".op", fmt::format("unknown operator {}", Quote(arg.op))));
    }
  }
  return Ok();
}

Status ValidateTimeOffsets(const Spec& spec) {
  const Linux& lc = *spec.linux_config;
  if (lc.time_offsets.empty()) {
    return Ok();
  }
  const Namespace* ns = FindNamespace(spec, "time");
  if (ns == nullptr || !ns->path.empty()) {
    return Err(
        FieldError("linux.timeOffsets", "requires a new time namespace in linux.namespaces"));
  }
  for (const auto& [clock, secs] : lc.time_offsets) {
    if (clock != "monotonic" && clock != "boottime") {
      return Err(
          FieldError("linux.timeOffsets." + clock, "unknown clock (want monotonic or boottime)"));
    }
  }
  return Ok();
}

Status ValidatePaths(const Linux& lc) {
  const std::pair<const char*, const std::vector<std::string>*> lists[] = {
      {"linux.maskedPaths", &lc.masked_paths}, {"linux.readonlyPaths", &lc.readonly_paths}};
  for (const auto& [name, list] : lists) {
    for (size_t i = 0; i < list->size(); ++i) {
      RETURN_IF_ERROR(CheckAbsolutePath((*list)[i], fmt::format("{}[{}]", name, i)));
    }
  }
  // cgroupsPath is relative to a cgroup root; ".." would climb out of it.
  RETURN_IF_ERROR(CheckNoNul(lc.cgroups_path, "linux.cgroupsPath"));
  for (const auto& part : Split(lc.cgroups_path, '/')) {
    if (part == "..") {
      return Err(FieldError("linux.cgroupsPath", "must not contain \"..\""));
    }
  }
  return Ok();
}

bool IsMapped(const std::vector<IdMapping>& mappings, uint64_t id) {
  return std::ranges::any_of(mappings, [id](const IdMapping& m) {
    return id >= m.container_id && id < uint64_t{m.container_id} + m.size;
  });
}

// Rootless: a uid=/gid= mount option (tmpfs, devpts) naming an id that is not mapped into the
// container's user namespace makes the mount fail with EINVAL; say which option is at fault.
Status ValidateRootlessMountIds(const Spec& spec) {
  const Linux& lc = *spec.linux_config;
  if (lc.uid_mappings.empty() && lc.gid_mappings.empty()) {
    return Ok();
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& options = spec.mounts[i].options;
    for (size_t j = 0; j < options.size(); ++j) {
      const std::string& opt = options[j];
      bool is_uid = StartsWith(opt, "uid=");
      if (!is_uid && !StartsWith(opt, "gid=")) {
        continue;
      }
      auto id = ParseUint(std::string_view(opt).substr(4));
      const auto& mappings = is_uid ? lc.uid_mappings : lc.gid_mappings;
      if (!id || !IsMapped(mappings, *id)) {
        return Err(FieldError(fmt::format("mounts[{}].options[{}]", i, j),
                              fmt::format("{} is not mapped in the user namespace", Quote(opt))));
      }
    }
  }
  return Ok();
}

}  // namespace

Status ValidateSeccompSection(const Seccomp& seccomp) {
  if (!Contains(SeccompActions(), seccomp.default_action)) {
    return Err(FieldError("linux.seccomp.defaultAction",
                          fmt::format("unknown seccomp action {}", Quote(seccomp.default_action))));
  }
  for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
    if (!Contains(SeccompArchitectures(), seccomp.architectures[i])) {
      return Err(
          FieldError(fmt::format("linux.seccomp.architectures[{}]", i),
                     fmt::format("unknown architecture {}", Quote(seccomp.architectures[i]))));
    }
  }
  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    if (!Contains(SeccompFlags(), seccomp.flags[i])) {
      return Err(FieldError(fmt::format("linux.seccomp.flags[{}]", i),
                            fmt::format("unknown flag {}", Quote(seccomp.flags[i]))));
    }
  }
  bool notifies = seccomp.default_action == "SCMP_ACT_NOTIFY";
  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const SeccompSyscall& rule = seccomp.syscalls[i];
    RETURN_IF_ERROR(CheckSyscallRule(rule, fmt::format("linux.seccomp.syscalls[{}]", i)));
    notifies = notifies || rule.action == "SCMP_ACT_NOTIFY";
  }
  if (notifies && seccomp.listener_path.empty()) {
    return Err(FieldError("linux.seccomp.listenerPath", "required by SCMP_ACT_NOTIFY"));
  }
  if (!seccomp.listener_path.empty()) {
    RETURN_IF_ERROR(CheckAbsolutePath(seccomp.listener_path, "linux.seccomp.listenerPath"));
  }
  return Ok();
}

Status ValidateLinuxMisc(const Spec& spec, const ValidateOptions& options) {
  const Linux& lc = *spec.linux_config;
  static constexpr std::string_view kPropagations[] = {
      "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"};
  if (!lc.rootfs_propagation.empty() && !Contains(kPropagations, lc.rootfs_propagation)) {
    return Err(FieldError("linux.rootfsPropagation",
                          fmt::format("unknown propagation {}", Quote(lc.rootfs_propagation))));
  }
  if (lc.personality && lc.personality->domain != "LINUX" && lc.personality->domain != "LINUX32") {
    return Err(FieldError(
        "linux.personality.domain",
        fmt::format("unknown domain {} (want LINUX or LINUX32)", Quote(lc.personality->domain))));
  }
  RETURN_IF_ERROR(ValidateTimeOffsets(spec));
  RETURN_IF_ERROR(ValidatePaths(lc));
  if (options.rootless) {
    RETURN_IF_ERROR(ValidateRootlessMountIds(spec));
  }
  return Ok();
}

}  // namespace comet::oci::internal
