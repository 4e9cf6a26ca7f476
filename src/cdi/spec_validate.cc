// ValidateSpec and the version rules of CDI specs (see spec.h); ContainerEdits helpers.
// Thread-safe (pure functions).
#include <algorithm>
#include <array>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "cdi/names.h"
#include "cdi/spec.h"

namespace comet::cdi {
namespace {

// The OCI hook stages a CDI hook may name (SPEC.md "OCI Edits"; prestart is the deprecated
// name of createRuntime that the reference implementation still accepts).
constexpr std::array<std::string_view, 6> kHookNames = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

Error FieldError(const std::string& path, std::string_view message) {
  return Error::Invalid(fmt::format("{}: {}", path, message));
}

bool IsAbsolute(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

bool HasNul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

Status ValidatePath(std::string_view path, const std::string& field) {
  if (!IsAbsolute(path)) {
    return Err(
        FieldError(field, fmt::format("\"{}\": must be an absolute path", Printable(path, 128))));
  }
  if (HasNul(path)) {
    return Err(FieldError(field, "contains a NUL byte"));
  }
  return Ok();
}

Status ValidateEnv(const std::vector<std::string>& env, const std::string& field) {
  for (size_t i = 0; i < env.size(); ++i) {
    const size_t eq = env[i].find('=');
    if (eq == 0 || eq == std::string::npos || HasNul(env[i])) {
      return Err(FieldError(fmt::format("{}[{}]", field, i),
                            fmt::format("\"{}\": expected KEY=VALUE", Printable(env[i], 128))));
    }
  }
  return Ok();
}

Status ValidateDeviceNode(const DeviceNode& node, const std::string& field) {
  RETURN_IF_ERROR(ValidatePath(node.path, field + ".path"));
  if (!node.host_path.empty()) {
    RETURN_IF_ERROR(ValidatePath(node.host_path, field + ".hostPath"));
  }
  if (!node.type.empty() && node.type != "c" && node.type != "u" && node.type != "b" &&
      node.type != "p") {
    return Err(FieldError(field + ".type",
                          fmt::format("\"{}\": expected b, c, u or p", Printable(node.type, 16))));
  }
  // The kernel's limits (12-bit major, 20-bit minor), as the runtime checks them.
  if (node.major && (*node.major < 0 || *node.major > 0xfff)) {
    return Err(FieldError(field + ".major", fmt::format("{} is out of range", *node.major)));
  }
  if (node.minor && (*node.minor < 0 || *node.minor > 0xfffff)) {
    return Err(FieldError(field + ".minor", fmt::format("{} is out of range", *node.minor)));
  }
  if (node.file_mode && *node.file_mode > 07777) {
    return Err(
        FieldError(field + ".fileMode", fmt::format("{:o} is not a file mode", *node.file_mode)));
  }
  std::set<char> seen;
  for (char c : node.permissions) {
    if ((c != 'r' && c != 'w' && c != 'm') || !seen.insert(c).second) {
      return Err(FieldError(
          field + ".permissions",
          fmt::format("\"{}\": expected some of r, w and m", Printable(node.permissions, 16))));
    }
  }
  return Ok();
}

Status ValidateMount(const Mount& mount, const std::string& field) {
  RETURN_IF_ERROR(ValidatePath(mount.host_path, field + ".hostPath"));
  RETURN_IF_ERROR(ValidatePath(mount.container_path, field + ".containerPath"));
  for (size_t i = 0; i < mount.options.size(); ++i) {
    if (mount.options[i].empty() || HasNul(mount.options[i])) {
      return Err(FieldError(fmt::format("{}.options[{}]", field, i), "not a mount option"));
    }
  }
  return Ok();
}

Status ValidateHook(const Hook& hook, const std::string& field) {
  if (std::find(kHookNames.begin(), kHookNames.end(), hook.hook_name) == kHookNames.end()) {
    return Err(FieldError(field + ".hookName",
                          fmt::format("\"{}\": not an OCI hook (expected createRuntime, "
                                      "createContainer, startContainer, poststart, poststop or "
                                      "prestart)",
                                      Printable(hook.hook_name, 64))));
  }
  RETURN_IF_ERROR(ValidatePath(hook.path, field + ".path"));
  RETURN_IF_ERROR(ValidateEnv(hook.env, field + ".env"));
  if (std::any_of(hook.args.begin(), hook.args.end(), HasNul)) {
    return Err(FieldError(field + ".args", "contains a NUL byte"));
  }
  if (hook.timeout && *hook.timeout <= 0) {
    return Err(FieldError(field + ".timeout", "must be greater than zero"));
  }
  return Ok();
}

Status ValidateEdits(const ContainerEdits& edits, const std::string& field) {
  RETURN_IF_ERROR(ValidateEnv(edits.env, field + ".env"));
  for (size_t i = 0; i < edits.device_nodes.size(); ++i) {
    RETURN_IF_ERROR(
        ValidateDeviceNode(edits.device_nodes[i], fmt::format("{}.deviceNodes[{}]", field, i)));
  }
  for (size_t i = 0; i < edits.mounts.size(); ++i) {
    RETURN_IF_ERROR(ValidateMount(edits.mounts[i], fmt::format("{}.mounts[{}]", field, i)));
  }
  for (size_t i = 0; i < edits.hooks.size(); ++i) {
    RETURN_IF_ERROR(ValidateHook(edits.hooks[i], fmt::format("{}.hooks[{}]", field, i)));
  }
  return Ok();
}

// "1.2.3" -> {1, 2, 3}; a leading "v" is allowed (the reference implementation trims it).
std::optional<std::array<unsigned long long, 3>> ParseVersion(std::string_view text) {
  if (!text.empty() && text.front() == 'v') {
    text.remove_prefix(1);
  }
  const std::vector<std::string> parts = Split(text, '.');
  if (parts.size() != 3) {
    return std::nullopt;
  }
  std::array<unsigned long long, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    std::optional<unsigned long long> n = ParseUint(parts[i]);
    if (!n || parts[i].empty() || (parts[i].size() > 1 && parts[i][0] == '0')) {
      return std::nullopt;
    }
    out[i] = *n;
  }
  return out;
}

bool AnyEdits(const Spec& spec, const std::function<bool(const ContainerEdits&)>& test) {
  return test(spec.edits) || std::any_of(spec.devices.begin(), spec.devices.end(),
                                         [&](const Device& d) { return test(d.edits); });
}

}  // namespace

bool ContainerEdits::Empty() const {
  return env.empty() && device_nodes.empty() && mounts.empty() && hooks.empty() &&
         additional_gids.empty() && !intel_rdt;
}

void ContainerEdits::Append(const ContainerEdits& other) {
  env.insert(env.end(), other.env.begin(), other.env.end());
  device_nodes.insert(device_nodes.end(), other.device_nodes.begin(), other.device_nodes.end());
  mounts.insert(mounts.end(), other.mounts.begin(), other.mounts.end());
  hooks.insert(hooks.end(), other.hooks.begin(), other.hooks.end());
  additional_gids.insert(additional_gids.end(), other.additional_gids.begin(),
                         other.additional_gids.end());
  intel_rdt = intel_rdt || other.intel_rdt;
}

std::optional<int> CompareVersions(std::string_view a, std::string_view b) {
  auto va = ParseVersion(a);
  auto vb = ParseVersion(b);
  if (!va || !vb) {
    return std::nullopt;
  }
  return *va < *vb ? -1 : (*va == *vb ? 0 : 1);
}

// Which release introduced what (SPEC.md "Released versions"): the reference implementation
// refuses a spec that claims an older version than the fields it uses.
std::string MinimumVersion(const Spec& spec) {
  if (AnyEdits(spec, [](const ContainerEdits& e) { return e.intel_rdt; }) ||
      AnyEdits(spec, [](const ContainerEdits& e) { return !e.additional_gids.empty(); })) {
    return "0.7.0";
  }
  const size_t slash = spec.kind.find('/');
  const bool dotted_class =
      slash != std::string::npos && spec.kind.find('.', slash) != std::string::npos;
  if (!spec.annotations.empty() || dotted_class ||
      std::any_of(spec.devices.begin(), spec.devices.end(),
                  [](const Device& d) { return !d.annotations.empty(); })) {
    return "0.6.0";
  }
  const bool digit_name = std::any_of(
      spec.devices.begin(), spec.devices.end(),
      [](const Device& d) { return !d.name.empty() && d.name[0] >= '0' && d.name[0] <= '9'; });
  if (digit_name || AnyEdits(spec, [](const ContainerEdits& e) {
        return std::any_of(e.device_nodes.begin(), e.device_nodes.end(),
                           [](const DeviceNode& n) { return !n.host_path.empty(); });
      })) {
    return "0.5.0";
  }
  if (AnyEdits(spec, [](const ContainerEdits& e) {
        return std::any_of(e.mounts.begin(), e.mounts.end(),
                           [](const Mount& m) { return !m.type.empty(); });
      })) {
    return "0.4.0";
  }
  return std::string(kMinSpecVersion);
}

Status ValidateSpec(const Spec& spec) {
  if (spec.version.empty()) {
    return Err(FieldError("cdiVersion", "missing"));
  }
  auto oldest = CompareVersions(spec.version, kMinSpecVersion);
  auto newest = CompareVersions(spec.version, kMaxSpecVersion);
  if (!oldest) {
    return Err(FieldError("cdiVersion", fmt::format("\"{}\": not a version (MAJOR.MINOR.PATCH)",
                                                    Printable(spec.version, 32))));
  }
  // 1.0.x: patch releases of the newest known version change no field.
  const bool newest_patch = *newest > 0 && CompareVersions(spec.version, "1.1.0").value_or(1) < 0;
  if (*oldest < 0 || (*newest > 0 && !newest_patch)) {
    return Err(
        FieldError("cdiVersion", fmt::format("\"{}\": unsupported (comet reads {} to {})",
                                             spec.version, kMinSpecVersion, kMaxSpecVersion)));
  }
  const std::string needed = MinimumVersion(spec);
  if (CompareVersions(spec.version, needed).value_or(0) < 0) {
    return Err(FieldError("cdiVersion", fmt::format("\"{}\": the spec uses fields of version {}",
                                                    spec.version, needed)));
  }
  if (spec.kind.empty()) {
    return Err(FieldError("kind", "missing"));
  }
  RETURN_IF_ERROR_CTX(ValidateKind(spec.kind), "kind");
  if (spec.devices.empty()) {
    return Err(FieldError("devices", "a spec needs at least one device"));
  }
  RETURN_IF_ERROR(ValidateEdits(spec.edits, "containerEdits"));
  std::set<std::string> names;
  for (size_t i = 0; i < spec.devices.size(); ++i) {
    const Device& device = spec.devices[i];
    const std::string field = fmt::format("devices[{}]", i);
    RETURN_IF_ERROR_CTX(ValidateDeviceName(device.name), field + ".name");
    if (!names.insert(device.name).second) {
      return Err(FieldError(field + ".name", fmt::format("\"{}\": given twice", device.name)));
    }
    if (device.edits.Empty()) {
      return Err(FieldError(field + ".containerEdits", "a device needs at least one edit"));
    }
    RETURN_IF_ERROR(ValidateEdits(device.edits, field + ".containerEdits"));
  }
  return Ok();
}

}  // namespace comet::cdi
