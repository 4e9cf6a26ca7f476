// Spec, Process, Resources and State to JSON; see spec_json.h. Field order follows the
// runtime-spec's config.md (and runc's output); empty optional fields are left out.
#include <utility>

#include "oci/json_internal.h"
#include "oci/spec_json.h"

namespace comet::oci {
namespace internal {
namespace {

void PutString(OrderedJson& obj, const char* key, const std::string& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}

void PutStrings(OrderedJson& obj, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) {
    obj[key] = values;
  }
}

OrderedJson IdMappingsToJson(const std::vector<IdMapping>& mappings) {
  OrderedJson list = OrderedJson::array();
  for (const auto& m : mappings) {
    list.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  }
  return list;
}

OrderedJson UserToJson(const User& user) {
  OrderedJson out = {{"uid", user.uid}, {"gid", user.gid}};
  if (user.umask) {
    out["umask"] = *user.umask;
  }
  if (!user.additional_gids.empty()) {
    out["additionalGids"] = user.additional_gids;
  }
  PutString(out, "username", user.username);
  return out;
}

OrderedJson CapabilitiesToJson(const Capabilities& caps) {
  OrderedJson out = OrderedJson::object();
  PutStrings(out, "bounding", caps.bounding);
  PutStrings(out, "effective", caps.effective);
  PutStrings(out, "inheritable", caps.inheritable);
  PutStrings(out, "permitted", caps.permitted);
  PutStrings(out, "ambient", caps.ambient);
  return out;
}

OrderedJson MountToJson(const Mount& mount) {
  OrderedJson out = {{"destination", mount.destination}};
  PutString(out, "type", mount.type);
  PutString(out, "source", mount.source);
  PutStrings(out, "options", mount.options);
  if (!mount.uid_mappings.empty()) {
    out["uidMappings"] = IdMappingsToJson(mount.uid_mappings);
  }
  if (!mount.gid_mappings.empty()) {
    out["gidMappings"] = IdMappingsToJson(mount.gid_mappings);
  }
  return out;
}

OrderedJson HooksToJson(const Hooks& hooks) {
  OrderedJson out = OrderedJson::object();
  const std::pair<const char*, const std::vector<Hook>*> lists[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container},
      {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop},
  };
  for (const auto& [key, list] : lists) {
    if (list->empty()) {
      continue;
    }
    OrderedJson items = OrderedJson::array();
    for (const auto& hook : *list) {
      OrderedJson item = {{"path", hook.path}};
      PutStrings(item, "args", hook.args);
      PutStrings(item, "env", hook.env);
      if (hook.timeout) {
        item["timeout"] = *hook.timeout;
      }
      items.push_back(std::move(item));
    }
    out[key] = std::move(items);
  }
  return out;
}

OrderedJson SeccompToJson(const Seccomp& seccomp) {
  OrderedJson out = {{"defaultAction", seccomp.default_action}};
  if (seccomp.default_errno_ret) {
    out["defaultErrnoRet"] = *seccomp.default_errno_ret;
  }
  PutStrings(out, "architectures", seccomp.architectures);
  PutStrings(out, "flags", seccomp.flags);
  PutString(out, "listenerPath", seccomp.listener_path);
  PutString(out, "listenerMetadata", seccomp.listener_metadata);
  if (!seccomp.syscalls.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& sc : seccomp.syscalls) {
      OrderedJson item = {{"names", sc.names}, {"action", sc.action}};
      if (sc.errno_ret) {
        item["errnoRet"] = *sc.errno_ret;
      }
      if (!sc.args.empty()) {
        OrderedJson args = OrderedJson::array();
        for (const auto& a : sc.args) {
          args.push_back(
              {{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
        }
        item["args"] = std::move(args);
      }
      list.push_back(std::move(item));
    }
    out["syscalls"] = std::move(list);
  }
  return out;
}

OrderedJson DevicesToJson(const std::vector<Device>& devices) {
  OrderedJson list = OrderedJson::array();
  for (const auto& d : devices) {
    OrderedJson item = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
    if (d.file_mode) {
      item["fileMode"] = *d.file_mode;
    }
    if (d.uid) {
      item["uid"] = *d.uid;
    }
    if (d.gid) {
      item["gid"] = *d.gid;
    }
    list.push_back(std::move(item));
  }
  return list;
}

// The first half of "linux": identity and devices; LinuxToJson adds the rest.
void PutLinuxIdentity(const Linux& lc, OrderedJson& out) {
  if (!lc.uid_mappings.empty()) {
    out["uidMappings"] = IdMappingsToJson(lc.uid_mappings);
  }
  if (!lc.gid_mappings.empty()) {
    out["gidMappings"] = IdMappingsToJson(lc.gid_mappings);
  }
  if (!lc.sysctl.empty()) {
    out["sysctl"] = lc.sysctl;
  }
  if (lc.resources) {
    out["resources"] = ResourcesToJsonValue(*lc.resources);
  }
  PutString(out, "cgroupsPath", lc.cgroups_path);
  if (!lc.namespaces.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& ns : lc.namespaces) {
      OrderedJson item = {{"type", ns.type}};
      PutString(item, "path", ns.path);
      list.push_back(std::move(item));
    }
    out["namespaces"] = std::move(list);
  }
  if (!lc.devices.empty()) {
    out["devices"] = DevicesToJson(lc.devices);
  }
}

OrderedJson LinuxToJson(const Linux& lc) {
  OrderedJson out = OrderedJson::object();
  PutLinuxIdentity(lc, out);
  if (lc.seccomp) {
    out["seccomp"] = SeccompToJson(*lc.seccomp);
  }
  PutString(out, "rootfsPropagation", lc.rootfs_propagation);
  PutStrings(out, "maskedPaths", lc.masked_paths);
  PutStrings(out, "readonlyPaths", lc.readonly_paths);
  PutString(out, "mountLabel", lc.mount_label);
  if (lc.personality) {
    OrderedJson personality = {{"domain", lc.personality->domain}};
    PutStrings(personality, "flags", lc.personality->flags);
    out["personality"] = std::move(personality);
  }
  if (!lc.time_offsets.empty()) {
    OrderedJson offsets = OrderedJson::object();
    for (const auto& [clock, secs] : lc.time_offsets) {
      offsets[clock] = {{"secs", secs}};
    }
    out["timeOffsets"] = std::move(offsets);
  }
  return out;
}

}  // namespace

std::string Dump(const OrderedJson& value) {
  return value.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
}

OrderedJson ProcessToJsonValue(const Process& process) {
  OrderedJson out = OrderedJson::object();
  if (process.terminal) {
    out["terminal"] = true;
  }
  if (process.console_size) {
    out["consoleSize"] = {{"height", process.console_size->height},
                          {"width", process.console_size->width}};
  }
  out["user"] = UserToJson(process.user);
  PutStrings(out, "args", process.args);
  PutString(out, "commandLine", process.command_line);
  PutStrings(out, "env", process.env);
  out["cwd"] = process.cwd;
  if (process.capabilities) {
    out["capabilities"] = CapabilitiesToJson(*process.capabilities);
  }
  if (!process.rlimits.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& r : process.rlimits) {
      list.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    }
    out["rlimits"] = std::move(list);
  }
  if (process.no_new_privileges) {
    out["noNewPrivileges"] = true;
  }
  PutString(out, "apparmorProfile", process.apparmor_profile);
  if (process.oom_score_adj) {
    out["oomScoreAdj"] = *process.oom_score_adj;
  }
  PutString(out, "selinuxLabel", process.selinux_label);
  return out;
}

}  // namespace internal

using internal::Dump;
using internal::OrderedJson;

std::string SpecToJson(const Spec& spec) {
  OrderedJson out = {{"ociVersion", spec.oci_version}};
  if (spec.process) {
    out["process"] = internal::ProcessToJsonValue(*spec.process);
  }
  if (!spec.root.path.empty() || spec.root.readonly) {
    OrderedJson root = {{"path", spec.root.path}};
    if (spec.root.readonly) {
      root["readonly"] = true;
    }
    out["root"] = std::move(root);
  }
  internal::PutString(out, "hostname", spec.hostname);
  internal::PutString(out, "domainname", spec.domainname);
  if (!spec.mounts.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const auto& m : spec.mounts) {
      list.push_back(internal::MountToJson(m));
    }
    out["mounts"] = std::move(list);
  }
  if (spec.hooks) {
    out["hooks"] = internal::HooksToJson(*spec.hooks);
  }
  if (!spec.annotations.empty()) {
    out["annotations"] = spec.annotations;
  }
  if (spec.linux_config) {
    out["linux"] = internal::LinuxToJson(*spec.linux_config);
  }
  return Dump(out);
}

std::string ProcessToJson(const Process& process) {
  return Dump(internal::ProcessToJsonValue(process));
}

std::string ResourcesToJson(const Resources& resources) {
  return Dump(internal::ResourcesToJsonValue(resources));
}

std::string StateToJson(const State& state, const std::optional<RuncStateExtras>& extras) {
  OrderedJson out = {{"ociVersion", state.oci_version}, {"id", state.id}};
  if (extras) {
    out["pid"] = state.pid;
    out["status"] = state.status;
  } else {
    out["status"] = state.status;
    if (state.pid != 0) {
      out["pid"] = state.pid;
    }
  }
  out["bundle"] = state.bundle;
  if (extras) {
    out["rootfs"] = extras->rootfs;
    out["created"] = extras->created;
  }
  if (!state.annotations.empty()) {
    out["annotations"] = state.annotations;
  }
  if (extras) {
    out["owner"] = extras->owner;
  }
  return Dump(out);
}

}  // namespace comet::oci
