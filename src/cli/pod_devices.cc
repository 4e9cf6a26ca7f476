// --device and CDI devices into pod apps; see pod_devices.h.
#include "cli/pod_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "cdi/names.h"
#include "cli/pod_run_app.h"

namespace comet::cli {
namespace {

bool IsPermissions(std::string_view text) {
  std::set<char> seen;
  return !text.empty() && text.size() <= 3 && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c == 'r' || c == 'w' || c == 'm') && seen.insert(c).second;
  });
}

bool IsAbsolute(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

// A device node at `device.path` replaces one the app already has there (the runtime would
// make the node once, the later definition winning).
void PutDevice(pod::App& app, pod::AppDevice device) {
  std::erase_if(app.devices, [&](const pod::AppDevice& d) { return d.path == device.path; });
  app.devices.push_back(std::move(device));
}

Result<pod::AppDevice> FromCdiNode(const cdi::DeviceNode& node) {
  if (node.type.empty()) {  // cdi::Registry::Resolve fills it from the host
    return Err(Error::Invalid(fmt::format("CDI device node {}: no type", node.path)));
  }
  pod::AppDevice device;
  device.path = node.path;
  device.host_path = node.host_path.empty() ? node.path : node.host_path;
  device.type = node.type == "u" ? 'c' : node.type[0];
  device.major = node.major.value_or(0);
  device.minor = node.minor.value_or(0);
  device.file_mode = node.file_mode;
  device.permissions = node.permissions.empty() ? "rwm" : node.permissions;
  device.uid = node.uid;
  device.gid = node.gid;
  return device;
}

// CDI mounts are bind mounts in practice (driver libraries, sockets); the type is a dummy for
// them (SPEC.md). Other file systems are refused rather than mounted as binds.
Result<pod::AppBindMount> FromCdiMount(const cdi::Mount& mount) {
  const bool bind_option = std::any_of(mount.options.begin(), mount.options.end(),
                                       [](auto& o) { return o == "bind" || o == "rbind"; });
  if (!bind_option && !mount.type.empty() && mount.type != "bind" && mount.type != "none") {
    return Err(
        Error::Invalid(fmt::format("CDI mount {}: type {} is not supported (only bind "
                                   "mounts are)",
                                   mount.container_path, mount.type)));
  }
  return pod::AppBindMount{mount.host_path, mount.container_path, mount.options};
}

Status AddEdits(pod::App& app, const cdi::ContainerEdits& edits) {
  for (const cdi::DeviceNode& node : edits.device_nodes) {
    ASSIGN_OR_RETURN(pod::AppDevice device, FromCdiNode(node));
    PutDevice(app, std::move(device));
  }
  for (const cdi::Mount& mount : edits.mounts) {
    ASSIGN_OR_RETURN(pod::AppBindMount bind, FromCdiMount(mount));
    app.bind_mounts.push_back(std::move(bind));
  }
  for (const cdi::Hook& hook : edits.hooks) {
    app.hooks.push_back(pod::AppHook{hook.hook_name, hook.path, hook.args, hook.env, hook.timeout});
  }
  MergeEnv(app.env, edits.env);
  for (uint32_t gid : edits.additional_gids) {
    auto& gids = app.supplementary_gids;
    if (gid != 0 && std::find(gids.begin(), gids.end(), gid) == gids.end()) {
      gids.push_back(gid);
    }
  }
  return Ok();
}

Status AddHostDevice(pod::App& app, std::string_view value) {
  ASSIGN_OR_RETURN(HostDeviceFlag flag, ParseHostDeviceFlag(value));
  // stat, not lstat: /dev/disk/by-id/... names are symlinks to the node (podman follows them).
  struct stat st {};
  if (::stat(flag.host_path.c_str(), &st) != 0) {
    return Err(Error::FromErrno("device", flag.host_path));
  }
  pod::AppDevice device;
  if (S_ISCHR(st.st_mode)) {
    device.type = 'c';
  } else if (S_ISBLK(st.st_mode)) {
    device.type = 'b';
  } else if (S_ISFIFO(st.st_mode)) {
    device.type = 'p';
  } else {
    return Err(Error::Invalid(fmt::format("device {}: not a device node", flag.host_path)));
  }
  if (device.type != 'p') {
    device.major = static_cast<int64_t>(major(st.st_rdev));
    device.minor = static_cast<int64_t>(minor(st.st_rdev));
  }
  device.path = flag.container_path;
  device.host_path = flag.host_path;
  device.file_mode = static_cast<uint32_t>(st.st_mode & 07777);
  device.permissions = flag.permissions;
  PutDevice(app, std::move(device));
  return Ok();
}

}  // namespace

Result<HostDeviceFlag> ParseHostDeviceFlag(std::string_view value) {
  const std::vector<std::string> parts = Split(value, ':');
  auto bad = [&](std::string_view why) {
    return Err(
        Error::Invalid(fmt::format("{:?}: {} (expected HOST_PATH[:CONTAINER_PATH]"
                                   "[:PERMISSIONS] or vendor.com/class=name)",
                                   value, why)));
  };
  if (parts.empty() || parts.size() > 3 || !IsAbsolute(parts[0])) {
    return bad("not a device");
  }
  HostDeviceFlag flag;
  flag.host_path = parts[0];
  flag.container_path = parts[0];
  if (parts.size() == 2) {
    // podman's rule: a second part that reads as permissions is permissions.
    if (IsPermissions(parts[1])) {
      flag.permissions = parts[1];
    } else {
      flag.container_path = parts[1];
    }
  } else if (parts.size() == 3) {
    flag.container_path = parts[1];
    if (!IsPermissions(parts[2])) {
      return bad("permissions must be some of r, w and m");
    }
    flag.permissions = parts[2];
  }
  if (!IsAbsolute(flag.container_path)) {
    return bad("the container path must be absolute");
  }
  return flag;
}

Status CheckDeviceFlag(std::string_view value) {
  if (cdi::LooksQualified(value)) {
    return cdi::ParseQualifiedName(value).transform([](const cdi::QualifiedName&) {});
  }
  return ParseHostDeviceFlag(value).transform([](const HostDeviceFlag&) {});
}

const cdi::Registry& CdiResolver::registry() {
  if (!registry_) {
    registry_ = cdi::Registry::Load(spec_dirs_);
    for (const std::string& error : registry_->errors()) {
      log::Warning("CDI spec skipped: {}", error);
    }
  }
  return *registry_;
}

Status CdiResolver::AddDevices(pod::App& app, const std::vector<std::string>& names) {
  if (names.empty()) {
    return Ok();
  }
  ASSIGN_OR_RETURN(cdi::ContainerEdits edits, registry().Resolve(names));
  RETURN_IF_ERROR(AddEdits(app, edits));
  for (const std::string& name : names) {
    if (std::find(app.cdi_devices.begin(), app.cdi_devices.end(), name) == app.cdi_devices.end()) {
      app.cdi_devices.push_back(name);
    }
  }
  return Ok();
}

Status CdiResolver::AddDeviceCount(pod::App& app, std::string_view kind, size_t count) {
  if (count == 0) {
    return Ok();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, registry().PickDevices(kind, count));
  return AddDevices(app, names);
}

Status AddCdiDevices(pod::App& app, const std::vector<std::string>& names,
                     const std::vector<std::string>& spec_dirs) {
  return CdiResolver(spec_dirs).AddDevices(app, names);
}

Status AddCdiDeviceCount(pod::App& app, std::string_view kind, size_t count,
                         const std::vector<std::string>& spec_dirs) {
  return CdiResolver(spec_dirs).AddDeviceCount(app, kind, count);
}

Result<std::vector<std::string>> PickCdiDevices(std::string_view kind, size_t count,
                                                const std::vector<std::string>& spec_dirs) {
  cdi::Registry registry = cdi::Registry::Load(spec_dirs);
  for (const std::string& error : registry.errors()) {
    log::Warning("CDI spec skipped: {}", error);
  }
  return registry.PickDevices(kind, count);
}

Status ApplyDeviceFlags(const PodRunOptions& options, const AppFlags& flags,
                        const std::vector<std::string>& spec_dirs, pod::App& app) {
  std::vector<std::string> values = options.pod_devices;
  values.insert(values.end(), flags.devices.begin(), flags.devices.end());
  std::vector<std::string> cdi_names;
  for (const std::string& value : values) {
    if (cdi::LooksQualified(value)) {
      cdi_names.push_back(value);
    } else {
      RETURN_IF_ERROR_CTX(AddHostDevice(app, value), "--device");
    }
  }
  // All CDI names in one resolution, so that each spec's own edits are applied once.
  CdiResolver resolver(spec_dirs);
  RETURN_IF_ERROR_CTX(resolver.AddDevices(app, cdi_names), "--device");
  return Ok();
}

}  // namespace comet::cli
