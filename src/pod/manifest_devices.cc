// An app's devices in the pod manifest (cdi_devices, devices, bind_mounts, hooks): their JSON
// form and their checks. See manifest.h. Thread-safe (pure functions).
#include <algorithm>
#include <array>
#include <set>
#include <string>

#include <fmt/format.h>

#include "pod/json_fields.h"
#include "pod/manifest.h"
#include "pod/manifest_json.h"

namespace comet::pod::internal {
namespace {

// The OCI runtime-spec hook points (config.md "POSIX-platform Hooks").
constexpr std::array<std::string_view, 6> kHookStages = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

OrderedJson DeviceToJson(const AppDevice& d) {
  OrderedJson out = {
      {"path", d.path},   {"host_path", d.host_path}, {"type", std::string(1, d.type)},
      {"major", d.major}, {"minor", d.minor},         {"permissions", d.permissions}};
  if (d.file_mode) {
    out["file_mode"] = *d.file_mode;
  }
  if (d.uid) {
    out["uid"] = *d.uid;
  }
  if (d.gid) {
    out["gid"] = *d.gid;
  }
  return out;
}

OrderedJson HookToJson(const AppHook& h) {
  OrderedJson out = {{"stage", h.stage}, {"path", h.path}, {"args", h.args}, {"env", h.env}};
  if (h.timeout) {
    out["timeout"] = *h.timeout;
  }
  return out;
}

Status ParseDevices(const ObjectReader& r, std::vector<AppDevice>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("devices", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader d(*items[i], IndexPath(r.PathOf("devices"), i));
    AppDevice device;
    RETURN_IF_ERROR(d.String("path", &device.path));
    RETURN_IF_ERROR(d.String("host_path", &device.host_path));
    std::string type;
    RETURN_IF_ERROR(d.String("type", &type));
    if (type.size() != 1) {
      return Err(PathError(d.PathOf("type"),
                           fmt::format(R"("{}": expected "c", "b" or "p")", Printable(type))));
    }
    device.type = type[0];
    RETURN_IF_ERROR(d.Int64("major", &device.major));
    RETURN_IF_ERROR(d.Int64("minor", &device.minor));
    RETURN_IF_ERROR(d.Read("file_mode", &device.file_mode));
    RETURN_IF_ERROR(d.String("permissions", &device.permissions));
    RETURN_IF_ERROR(d.Read("uid", &device.uid));
    RETURN_IF_ERROR(d.Read("gid", &device.gid));
    out->push_back(std::move(device));
  }
  return Ok();
}

Status ParseBindMounts(const ObjectReader& r, std::vector<AppBindMount>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("bind_mounts", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader m(*items[i], IndexPath(r.PathOf("bind_mounts"), i));
    AppBindMount mount;
    RETURN_IF_ERROR(m.String("host_path", &mount.host_path));
    RETURN_IF_ERROR(m.String("container_path", &mount.container_path));
    RETURN_IF_ERROR(m.StringArray("options", &mount.options));
    out->push_back(std::move(mount));
  }
  return Ok();
}

Status ParseHooks(const ObjectReader& r, std::vector<AppHook>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("hooks", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader h(*items[i], IndexPath(r.PathOf("hooks"), i));
    AppHook hook;
    RETURN_IF_ERROR(h.String("stage", &hook.stage));
    RETURN_IF_ERROR(h.String("path", &hook.path));
    RETURN_IF_ERROR(h.StringArray("args", &hook.args));
    RETURN_IF_ERROR(h.StringArray("env", &hook.env));
    RETURN_IF_ERROR(h.Read("timeout", &hook.timeout));
    out->push_back(std::move(hook));
  }
  return Ok();
}

Status CheckPath(const std::string& value, const std::string& field) {
  if (!IsCleanAbsolutePath(value)) {
    return Err(PathError(
        field, fmt::format(R"("{}": must be an absolute path without "..")", Printable(value))));
  }
  return Ok();
}

// A strict subset of "rwm", each letter once.
bool IsAccess(std::string_view access) {
  std::set<char> seen;
  return !access.empty() && std::all_of(access.begin(), access.end(), [&](char c) {
    return (c == 'r' || c == 'w' || c == 'm') && seen.insert(c).second;
  });
}

Status ValidateDevice(const AppDevice& d, const std::string& path) {
  RETURN_IF_ERROR(CheckPath(d.path, ChildPath(path, "path")));
  RETURN_IF_ERROR(CheckPath(d.host_path, ChildPath(path, "host_path")));
  if (d.type != 'c' && d.type != 'b' && d.type != 'p') {
    return Err(PathError(ChildPath(path, "type"), R"(expected "c", "b" or "p")"));
  }
  // The kernel's dev_t: 12-bit major, 20-bit minor (as the runtime checks them).
  if (d.major < 0 || d.major > 0xfff || d.minor < 0 || d.minor > 0xfffff) {
    return Err(PathError(ChildPath(path, "major"),
                         fmt::format("{}:{} is not a device number", d.major, d.minor)));
  }
  if (d.file_mode && *d.file_mode > 07777) {
    return Err(PathError(ChildPath(path, "file_mode"),
                         fmt::format("{:o} is not a file mode", *d.file_mode)));
  }
  if (!IsAccess(d.permissions)) {
    return Err(
        PathError(ChildPath(path, "permissions"),
                  fmt::format(R"("{}": expected some of r, w and m)", Printable(d.permissions))));
  }
  return Ok();
}

Status ValidateBindMount(const AppBindMount& m, const std::string& path) {
  RETURN_IF_ERROR(CheckPath(m.host_path, ChildPath(path, "host_path")));
  RETURN_IF_ERROR(CheckPath(m.container_path, ChildPath(path, "container_path")));
  for (size_t i = 0; i < m.options.size(); ++i) {
    const std::string& option = m.options[i];
    if (option.empty() || HasControlChars(option) || option.find(',') != std::string::npos) {
      return Err(PathError(IndexPath(ChildPath(path, "options"), i),
                           fmt::format("\"{}\": not a mount option", Printable(option))));
    }
  }
  return Ok();
}

Status ValidateHook(const AppHook& h, const std::string& path) {
  if (std::find(kHookStages.begin(), kHookStages.end(), h.stage) == kHookStages.end()) {
    return Err(PathError(ChildPath(path, "stage"),
                         fmt::format("\"{}\": not an OCI hook stage", Printable(h.stage))));
  }
  RETURN_IF_ERROR(CheckPath(h.path, ChildPath(path, "path")));
  for (const char* key : {"args", "env"}) {
    const auto& items = std::string_view(key) == "args" ? h.args : h.env;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].find('\0') != std::string::npos) {
        return Err(PathError(IndexPath(ChildPath(path, key), i), "contains a NUL byte"));
      }
    }
  }
  if (h.timeout && *h.timeout <= 0) {
    return Err(PathError(ChildPath(path, "timeout"), "must be greater than zero"));
  }
  return Ok();
}

}  // namespace

void AddDeviceFields(const App& app, OrderedJson& out) {
  if (!app.cdi_devices.empty()) {
    out["cdi_devices"] = app.cdi_devices;
  }
  if (!app.devices.empty()) {
    OrderedJson devices = OrderedJson::array();
    for (const AppDevice& d : app.devices) {
      devices.push_back(DeviceToJson(d));
    }
    out["devices"] = std::move(devices);
  }
  if (!app.bind_mounts.empty()) {
    OrderedJson mounts = OrderedJson::array();
    for (const AppBindMount& m : app.bind_mounts) {
      mounts.push_back({{"host_path", m.host_path},
                        {"container_path", m.container_path},
                        {"options", m.options}});
    }
    out["bind_mounts"] = std::move(mounts);
  }
  if (!app.hooks.empty()) {
    OrderedJson hooks = OrderedJson::array();
    for (const AppHook& h : app.hooks) {
      hooks.push_back(HookToJson(h));
    }
    out["hooks"] = std::move(hooks);
  }
}

Status ParseDeviceFields(const ObjectReader& r, App* app) {
  RETURN_IF_ERROR(r.StringArray("cdi_devices", &app->cdi_devices));
  RETURN_IF_ERROR(ParseDevices(r, &app->devices));
  RETURN_IF_ERROR(ParseBindMounts(r, &app->bind_mounts));
  return ParseHooks(r, &app->hooks);
}

Status ValidateDeviceFields(const App& app, const std::string& path) {
  for (size_t i = 0; i < app.cdi_devices.size(); ++i) {
    if (app.cdi_devices[i].empty() || HasControlChars(app.cdi_devices[i])) {
      return Err(PathError(IndexPath(ChildPath(path, "cdi_devices"), i), "not a device name"));
    }
  }
  std::set<std::string> device_paths;
  for (size_t i = 0; i < app.devices.size(); ++i) {
    const std::string field = IndexPath(ChildPath(path, "devices"), i);
    RETURN_IF_ERROR(ValidateDevice(app.devices[i], field));
    if (!device_paths.insert(app.devices[i].path).second) {
      return Err(PathError(ChildPath(field, "path"),
                           fmt::format("\"{}\": given twice", Printable(app.devices[i].path))));
    }
  }
  for (size_t i = 0; i < app.bind_mounts.size(); ++i) {
    RETURN_IF_ERROR(
        ValidateBindMount(app.bind_mounts[i], IndexPath(ChildPath(path, "bind_mounts"), i)));
  }
  for (size_t i = 0; i < app.hooks.size(); ++i) {
    RETURN_IF_ERROR(ValidateHook(app.hooks[i], IndexPath(ChildPath(path, "hooks"), i)));
  }
  return Ok();
}

}  // namespace comet::pod::internal
