// Spec validation of the "linux" section and of the fields that depend on its namespaces
// (hostname, sysctl, time offsets). See validate.h.
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "oci/names.h"
#include "oci/validate_internal.h"

namespace comet::oci::internal {
namespace {

Status ValidateNamespaces(const Linux& lc) {
  std::set<std::string> seen;
  for (size_t i = 0; i < lc.namespaces.size(); ++i) {
    const Namespace& ns = lc.namespaces[i];
    std::string item = fmt::format("linux.namespaces[{}]", i);
    if (!Contains(NamespaceTypes(), ns.type)) {
      return Err(
          FieldError(item + ".type", fmt::format("unknown namespace type {}", Quote(ns.type))));
    }
    if (!seen.insert(ns.type).second) {
      return Err(FieldError(item + ".type", fmt::format("duplicate namespace {}", ns.type)));
    }
    if (!ns.path.empty()) {
      RETURN_IF_ERROR(CheckAbsolutePath(ns.path, item + ".path"));
    }
  }
  return Ok();
}

Status ValidateUserNamespace(const Spec& spec, const ValidateOptions& options) {
  const Linux& lc = *spec.linux_config;
  RETURN_IF_ERROR(CheckIdMappings(lc.uid_mappings, "linux.uidMappings"));
  RETURN_IF_ERROR(CheckIdMappings(lc.gid_mappings, "linux.gidMappings"));
  const Namespace* userns = FindNamespace(spec, "user");
  bool has_mappings = !lc.uid_mappings.empty() || !lc.gid_mappings.empty();
  if (userns == nullptr) {
    if (has_mappings) {
      return Err(FieldError(lc.uid_mappings.empty() ? "linux.gidMappings" : "linux.uidMappings",
                            "mappings need a user namespace in linux.namespaces"));
    }
    return Ok();
  }
  // Joining an existing user namespace: its mappings are already set; any given here are the
  // caller's description of them, which the runtime may compare but we cannot.
  if (!userns->path.empty()) {
    return Ok();
  }
  if (!has_mappings) {
    if (options.auto_userns_mapping) {
      return Ok();
    }
    return Err(
        FieldError("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings"));
  }
  if (lc.uid_mappings.empty()) {
    return Err(FieldError("linux.uidMappings", "required when linux.gidMappings is set"));
  }
  if (lc.gid_mappings.empty()) {
    return Err(FieldError("linux.gidMappings", "required when linux.uidMappings is set"));
  }
  return Ok();
}

// sethostname(2)/setdomainname(2) change the UTS namespace the container is in: without one
// of its own that would be the host's.
Status ValidateUts(const Spec& spec) {
  const std::pair<const char*, const std::string*> names[] = {{"hostname", &spec.hostname},
                                                              {"domainname", &spec.domainname}};
  for (const auto& [field, value] : names) {
    if (value->empty()) {
      continue;
    }
    if (FindNamespace(spec, "uts") == nullptr) {
      return Err(FieldError(field, "setting it requires a uts namespace in linux.namespaces"));
    }
    RETURN_IF_ERROR(CheckNoNul(*value, field));
    constexpr size_t kMaxLength = 64;  // HOST_NAME_MAX, and the domainname limit too
    if (value->size() > kMaxLength) {
      return Err(FieldError(field, fmt::format("longer than {} bytes", kMaxLength)));
    }
  }
  return Ok();
}

Status ValidateDevices(const Linux& lc) {
  for (size_t i = 0; i < lc.devices.size(); ++i) {
    const Device& d = lc.devices[i];
    std::string item = fmt::format("linux.devices[{}]", i);
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
      return Err(
          FieldError(item + ".type",
                     fmt::format("unknown device type {} (want c, b, u or p)", Quote(d.type))));
    }
    RETURN_IF_ERROR(CheckAbsolutePath(d.path, item + ".path"));
    if (!StartsWith(d.path, "/dev/") || d.path.size() == 5) {
      return Err(
          FieldError(item + ".path", fmt::format("must be under /dev, got {}", Quote(d.path))));
    }
    for (const auto& part : Split(d.path, '/')) {
      if (part == "..") {
        return Err(FieldError(item + ".path", "must not contain \"..\""));
      }
    }
    // Linux dev_t: 12-bit major, 20-bit minor (MKDEV in <linux/kdev_t.h>).
    if (d.type != "p" && (d.major < 0 || d.major > 0xfff)) {
      return Err(FieldError(item + ".major", fmt::format("{} out of range [0, 4095]", d.major)));
    }
    if (d.type != "p" && (d.minor < 0 || d.minor > 0xfffff)) {
      return Err(FieldError(item + ".minor", fmt::format("{} out of range [0, 1048575]", d.minor)));
    }
    if (d.file_mode && *d.file_mode > 07777) {
      return Err(
          FieldError(item + ".fileMode", fmt::format("{:#o} has bits beyond 07777", *d.file_mode)));
    }
  }
  return Ok();
}

Status ValidateResources(const Resources& r) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const DeviceCgroup& d = r.devices[i];
    std::string item = fmt::format("linux.resources.devices[{}]", i);
    if (!d.type.empty() && d.type != "a" && d.type != "c" && d.type != "b") {
      return Err(FieldError(item + ".type",
                            fmt::format("unknown type {} (want a, c or b)", Quote(d.type))));
    }
    if (d.access.find_first_not_of("rwm") != std::string::npos) {
      return Err(FieldError(item + ".access",
                            fmt::format("{} is not a subset of \"rwm\"", Quote(d.access))));
    }
    if ((d.major && *d.major < -1) || (d.minor && *d.minor < -1)) {
      return Err(FieldError(item, "negative major/minor"));
    }
  }
  if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100) {
    return Err(FieldError("linux.resources.memory.swappiness",
                          fmt::format("{} out of range [0, 100]", *r.memory->swappiness)));
  }
  if (r.block_io) {
    auto check_weight = [](const std::optional<uint16_t>& w, const std::string& path) -> Status {
      if (w && *w != 0 && (*w < 10 || *w > 1000)) {
        return Err(FieldError(path, fmt::format("{} out of range [10, 1000]", *w)));
      }
      return Ok();
    };
    RETURN_IF_ERROR(check_weight(r.block_io->weight, "linux.resources.blockIO.weight"));
    RETURN_IF_ERROR(check_weight(r.block_io->leaf_weight, "linux.resources.blockIO.leafWeight"));
  }
  return Ok();
}

// Which namespace makes a sysctl private to the container (namespaces(7), sysctl docs). A key
// in no namespace would change the host, so it is refused.
const char* SysctlNamespace(std::string_view key) {
  if (StartsWith(key, "net.")) {
    return "network";
  }
  if (key == "kernel.sem" || StartsWith(key, "kernel.shm") || StartsWith(key, "kernel.msg") ||
      StartsWith(key, "fs.mqueue.")) {
    return "ipc";
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") {
    return "uts";
  }
  return nullptr;
}

Status ValidateSysctl(const Spec& spec) {
  for (const auto& [raw_key, value] : spec.linux_config->sysctl) {
    std::string path = "linux.sysctl." + raw_key;
    RETURN_IF_ERROR(CheckNoNul(raw_key + value, path));
    // "net/ipv4/ip_forward" is the same key as "net.ipv4.ip_forward".
    std::string key = raw_key;
    for (char& c : key) {
      if (c == '/') {
        c = '.';
      }
    }
    for (const auto& part : Split(key, '.')) {
      if (part.empty() || part == "..") {
        return Err(FieldError(path, "malformed sysctl name"));
      }
    }
    const char* ns = SysctlNamespace(key);
    if (ns == nullptr) {
      return Err(FieldError(path, "not namespaced: setting it would change the host"));
    }
    // A namespace joined by path is accepted: pods share one; the runtime checks it is not the
    // host's when it opens it.
    if (FindNamespace(spec, ns) == nullptr) {
      return Err(
          FieldError(path, fmt::format("requires the {} namespace in linux.namespaces", ns)));
    }
  }
  return Ok();
}

}  // namespace

Status ValidateLinux(const Spec& spec, const ValidateOptions& options) {
  RETURN_IF_ERROR(ValidateUts(spec));
  if (!spec.linux_config) {
    return Ok();
  }
  const Linux& lc = *spec.linux_config;
  RETURN_IF_ERROR(ValidateNamespaces(lc));
  RETURN_IF_ERROR(ValidateUserNamespace(spec, options));
  RETURN_IF_ERROR(ValidateDevices(lc));
  if (lc.resources) {
    RETURN_IF_ERROR(ValidateResources(*lc.resources));
  }
  RETURN_IF_ERROR(ValidateSysctl(spec));
  if (lc.seccomp) {
    RETURN_IF_ERROR(ValidateSeccompSection(*lc.seccomp));
  }
  return ValidateLinuxMisc(spec, options);
}

}  // namespace comet::oci::internal
