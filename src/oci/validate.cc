// Spec validation: the top level, the process, mounts and hooks. The linux section is in
// validate_linux.cc. See validate.h.
#include "oci/validate.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "oci/names.h"
#include "oci/validate_internal.h"

namespace comet::oci {
namespace internal {

Error FieldError(std::string_view path, std::string_view what) {
  if (path.empty()) {
    return Error::Invalid(std::string(what));
  }
  return Error::Invalid(fmt::format("{}: {}", path, what));
}

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u == '"' || u == '\\') {
      out += '\\';
      out += text[i];
    } else if (u >= 0x20 && u < 0x7f) {
      out += text[i];
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (text.size() > kMaxShown) {
    out += "...";
  }
  out += '"';
  return out;
}

Status CheckNoNul(std::string_view value, std::string_view path) {
  if (value.find('\0') != std::string_view::npos) {
    return Err(FieldError(path, "contains a NUL byte"));
  }
  return Ok();
}

Status CheckAbsolutePath(std::string_view value, std::string_view path) {
  if (value.empty()) {
    return Err(FieldError(path, "must not be empty"));
  }
  if (value.front() != '/') {
    return Err(FieldError(path, fmt::format("must be an absolute path, got {}", Quote(value))));
  }
  return CheckNoNul(value, path);
}

Status CheckIdMappings(const std::vector<IdMapping>& mappings, std::string_view path) {
  // The kernel accepts at most 340 lines in uid_map/gid_map (user_namespaces(7)).
  constexpr size_t kMaxLines = 340;
  if (mappings.size() > kMaxLines) {
    return Err(FieldError(path, fmt::format("more than {} mappings", kMaxLines)));
  }
  constexpr uint64_t kIdSpace = uint64_t{1} << 32;
  for (size_t i = 0; i < mappings.size(); ++i) {
    const IdMapping& m = mappings[i];
    std::string item = fmt::format("{}[{}]", path, i);
    if (m.size == 0) {
      return Err(FieldError(item + ".size", "must be greater than 0"));
    }
    if (uint64_t{m.container_id} + m.size > kIdSpace) {
      return Err(FieldError(item, "containerID + size exceeds 2^32"));
    }
    if (uint64_t{m.host_id} + m.size > kIdSpace) {
      return Err(FieldError(item, "hostID + size exceeds 2^32"));
    }
    for (size_t j = 0; j < i; ++j) {
      const IdMapping& o = mappings[j];
      auto overlap = [](uint64_t a, uint64_t b, uint64_t a_size, uint64_t b_size) {
        return a < b + b_size && b < a + a_size;
      };
      if (overlap(m.container_id, o.container_id, m.size, o.size)) {
        return Err(FieldError(item, fmt::format("container range overlaps {}[{}]", path, j)));
      }
      if (overlap(m.host_id, o.host_id, m.size, o.size)) {
        return Err(FieldError(item, fmt::format("host range overlaps {}[{}]", path, j)));
      }
    }
  }
  return Ok();
}

const Namespace* FindNamespace(const Spec& spec, std::string_view type) {
  if (!spec.linux_config) {
    return nullptr;
  }
  for (const auto& ns : spec.linux_config->namespaces) {
    if (ns.type == type) {
      return &ns;
    }
  }
  return nullptr;
}

namespace {

Status CheckEnv(const std::vector<std::string>& env, std::string_view path) {
  for (size_t i = 0; i < env.size(); ++i) {
    std::string item = fmt::format("{}[{}]", path, i);
    RETURN_IF_ERROR(CheckNoNul(env[i], item));
    size_t eq = env[i].find('=');
    if (eq == std::string::npos) {
      return Err(FieldError(item, fmt::format("missing '=' in {}", Quote(env[i]))));
    }
    if (eq == 0) {
      return Err(FieldError(item, "empty variable name"));
    }
  }
  return Ok();
}

Status CheckCapabilities(const Capabilities& caps, std::string_view path) {
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"bounding", &caps.bounding},       {"effective", &caps.effective},
      {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
      {"ambient", &caps.ambient},
  };
  for (const auto& [name, set] : sets) {
    for (size_t i = 0; i < set->size(); ++i) {
      if (CapabilityNumber((*set)[i]) < 0) {
        return Err(FieldError(fmt::format("{}.capabilities.{}[{}]", path, name, i),
                              fmt::format("unknown capability {}", Quote((*set)[i]))));
      }
    }
  }
  return Ok();
}

Status CheckRlimits(const std::vector<Rlimit>& rlimits, std::string_view path) {
  std::set<std::string> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    std::string item = fmt::format("{}.rlimits[{}]", path, i);
    if (!Contains(RlimitNames(), r.type)) {
      return Err(FieldError(item + ".type", fmt::format("unknown rlimit {}", Quote(r.type))));
    }
    if (!seen.insert(r.type).second) {
      return Err(FieldError(item + ".type", fmt::format("duplicate rlimit {}", r.type)));
    }
    if (r.soft > r.hard) {
      return Err(
          FieldError(item, fmt::format("soft limit {} exceeds hard limit {}", r.soft, r.hard)));
    }
  }
  return Ok();
}

std::string Sub(std::string_view path, std::string_view field) {
  return path.empty() ? std::string(field) : fmt::format("{}.{}", path, field);
}

Status ValidateMount(const Mount& m, const std::string& item) {
  // Relative destinations were tolerated by old runtimes; we refuse them rather than guess.
  RETURN_IF_ERROR(CheckAbsolutePath(m.destination, item + ".destination"));
  RETURN_IF_ERROR(CheckNoNul(m.source, item + ".source"));
  RETURN_IF_ERROR(CheckNoNul(m.type, item + ".type"));
  for (size_t j = 0; j < m.options.size(); ++j) {
    RETURN_IF_ERROR(CheckNoNul(m.options[j], fmt::format("{}.options[{}]", item, j)));
  }
  RETURN_IF_ERROR(CheckIdMappings(m.uid_mappings, item + ".uidMappings"));
  RETURN_IF_ERROR(CheckIdMappings(m.gid_mappings, item + ".gidMappings"));
  if (m.uid_mappings.empty() != m.gid_mappings.empty()) {
    return Err(FieldError(item, "an idmapped mount needs both uidMappings and gidMappings"));
  }
  return Ok();
}

Status ValidateHooks(const Hooks& hooks) {
  const std::pair<const char*, const std::vector<Hook>*> lists[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container},
      {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop},
  };
  for (const auto& [name, list] : lists) {
    for (size_t i = 0; i < list->size(); ++i) {
      const Hook& hook = (*list)[i];
      std::string item = fmt::format("hooks.{}[{}]", name, i);
      RETURN_IF_ERROR(CheckAbsolutePath(hook.path, item + ".path"));
      for (size_t j = 0; j < hook.args.size(); ++j) {
        RETURN_IF_ERROR(CheckNoNul(hook.args[j], fmt::format("{}.args[{}]", item, j)));
      }
      RETURN_IF_ERROR(CheckEnv(hook.env, item + ".env"));
      if (hook.timeout && *hook.timeout <= 0) {
        return Err(FieldError(item + ".timeout",
                              fmt::format("must be greater than 0, got {}", *hook.timeout)));
      }
    }
  }
  return Ok();
}

Status ValidateVersion(const std::string& version) {
  if (version.empty()) {
    return Err(FieldError("ociVersion", "required"));
  }
  // Any 1.x is accepted: minor versions of the runtime-spec only add fields.
  if (version.size() < 3 || version.compare(0, 2, "1.") != 0 ||
      !std::isdigit(static_cast<unsigned char>(version[2]))) {
    return Err(
        FieldError("ociVersion", fmt::format("unsupported version {} (want 1.x)", Quote(version))));
  }
  return Ok();
}

}  // namespace
}  // namespace internal

using internal::CheckAbsolutePath;
using internal::CheckNoNul;
using internal::FieldError;

Status ValidateProcess(const Process& process, std::string_view path, bool require_args) {
  if (require_args && process.args.empty()) {
    return Err(FieldError(internal::Sub(path, "args"), "must not be empty"));
  }
  for (size_t i = 0; i < process.args.size(); ++i) {
    RETURN_IF_ERROR(
        CheckNoNul(process.args[i], fmt::format("{}[{}]", internal::Sub(path, "args"), i)));
  }
  RETURN_IF_ERROR(CheckAbsolutePath(process.cwd, internal::Sub(path, "cwd")));
  RETURN_IF_ERROR(internal::CheckEnv(process.env, internal::Sub(path, "env")));
  std::string prefix = path.empty() ? std::string() : std::string(path);
  if (process.capabilities) {
    RETURN_IF_ERROR(internal::CheckCapabilities(*process.capabilities, prefix));
  }
  RETURN_IF_ERROR(internal::CheckRlimits(process.rlimits, prefix));
  if (process.oom_score_adj && (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000)) {
    return Err(FieldError(internal::Sub(path, "oomScoreAdj"),
                          fmt::format("{} out of range [-1000, 1000]", *process.oom_score_adj)));
  }
  if (process.user.umask && *process.user.umask > 0777) {
    return Err(FieldError(internal::Sub(path, "user.umask"),
                          fmt::format("{:#o} is not a valid umask", *process.user.umask)));
  }
  return Ok();
}

Status Validate(const Spec& spec, const ValidateOptions& options) {
  RETURN_IF_ERROR(internal::ValidateVersion(spec.oci_version));
  if (spec.root.path.empty()) {
    return Err(FieldError("root.path", "required"));
  }
  RETURN_IF_ERROR(CheckNoNul(spec.root.path, "root.path"));
  if (spec.process) {
    RETURN_IF_ERROR(ValidateProcess(*spec.process, "process", options.require_process));
  } else if (options.require_process) {
    return Err(FieldError("process", "required"));
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    RETURN_IF_ERROR(internal::ValidateMount(spec.mounts[i], fmt::format("mounts[{}]", i)));
  }
  if (spec.hooks) {
    RETURN_IF_ERROR(internal::ValidateHooks(*spec.hooks));
  }
  return internal::ValidateLinux(spec, options);
}

}  // namespace comet::oci
