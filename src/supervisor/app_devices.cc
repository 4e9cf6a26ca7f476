// AddAppDevices; see app_devices.h.
#include "supervisor/app_devices.h"

#include <algorithm>

#include <fmt/format.h>

namespace comet::supervisor {
namespace {

oci::Mount BindOf(const std::string& source, const std::string& destination,
                  std::vector<std::string> options) {
  oci::Mount mount;
  mount.destination = destination;
  mount.type = "bind";
  mount.source = source;
  if (std::none_of(options.begin(), options.end(),
                   [](const std::string& o) { return o == "bind" || o == "rbind"; })) {
    options.insert(options.begin(), "bind");
  }
  mount.options = std::move(options);
  return mount;
}

Status AddDevice(const pod::AppDevice& device, bool rootless, oci::Spec& spec) {
  if (rootless) {
    // No nodev here: the node is the point of the mount.
    spec.mounts.push_back(BindOf(device.host_path, device.path, {"bind", "nosuid", "noexec"}));
    return Ok();
  }
  oci::Device node;
  node.type = std::string(1, device.type);
  node.path = device.path;
  node.major = device.major;
  node.minor = device.minor;
  node.file_mode = device.file_mode;
  node.uid = device.uid;
  node.gid = device.gid;
  spec.linux_config->devices.push_back(std::move(node));
  if (device.type == 'p') {
    return Ok();  // the device cgroup does not govern fifos
  }
  if (!spec.linux_config->resources) {
    spec.linux_config->resources = oci::Resources{};
  }
  spec.linux_config->resources->devices.push_back({.allow = true,
                                                   .type = std::string(1, device.type),
                                                   .major = device.major,
                                                   .minor = device.minor,
                                                   .access = device.permissions});
  return Ok();
}

Status AddHook(const pod::AppHook& hook, oci::Hooks& hooks) {
  oci::Hook out;
  out.path = hook.path;
  out.args = hook.args;
  out.env = hook.env;
  out.timeout = hook.timeout;
  std::vector<oci::Hook>* stage = nullptr;
  if (hook.stage == "prestart") {
    stage = &hooks.prestart;
  } else if (hook.stage == "createRuntime") {
    stage = &hooks.create_runtime;
  } else if (hook.stage == "createContainer") {
    stage = &hooks.create_container;
  } else if (hook.stage == "startContainer") {
    stage = &hooks.start_container;
  } else if (hook.stage == "poststart") {
    stage = &hooks.poststart;
  } else if (hook.stage == "poststop") {
    stage = &hooks.poststop;
  } else {
    return Err(Error::Invalid(fmt::format("hook {}: unknown stage \"{}\"", hook.path, hook.stage)));
  }
  stage->push_back(std::move(out));
  return Ok();
}

}  // namespace

Status AddAppDevices(const pod::App& app, bool rootless, oci::Spec& spec) {
  if (!spec.linux_config) {
    return Err(Error::Invalid("app spec without a linux section"));
  }
  for (const pod::AppDevice& device : app.devices) {
    RETURN_IF_ERROR(AddDevice(device, rootless, spec));
  }
  for (const pod::AppBindMount& mount : app.bind_mounts) {
    spec.mounts.push_back(BindOf(mount.host_path, mount.container_path, mount.options));
  }
  if (!app.hooks.empty()) {
    oci::Hooks& hooks = spec.hooks ? *spec.hooks : spec.hooks.emplace();
    for (const pod::AppHook& hook : app.hooks) {
      RETURN_IF_ERROR(AddHook(hook, hooks));
    }
  }
  return Ok();
}

}  // namespace comet::supervisor
