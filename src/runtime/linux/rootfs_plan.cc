// PlanRootfs: turns the spec's root, mounts, devices and path lists into a RootfsPlan, checking
// in the parent everything that can be checked there so that errors name the spec field.
// Thread-safe (reads the spec and the host, no shared state).
#include "runtime/linux/rootfs_plan.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "os/file.h"
#include "runtime/linux/mount_options.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/rootfs_cgroup.h"
#include "runtime/linux/rootfs_escape.h"

namespace comet::runtime {
namespace {

std::string Field(std::string_view list, size_t index, std::string_view member = {}) {
  std::string out = std::string(list) + "[" + std::to_string(index) + "]";
  if (!member.empty()) {
    out += "." + std::string(member);
  }
  return out;
}

// Lexically cleaned absolute path ("//dev/" -> "/dev"), for comparisons only: the child still
// resolves the original string inside the rootfs.
std::string CleanAbsolute(std::string_view path) {
  std::vector<std::string> parts;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
      continue;
    }
    parts.push_back(part);
  }
  return "/" + Join(parts, "/");
}

struct NamespaceFlags {
  bool net = false;
  bool ipc = false;
  bool cgroup = false;
};

NamespaceFlags NewNamespaces(const oci::Spec& spec) {
  NamespaceFlags out;
  if (!spec.linux_config) {
    return out;
  }
  for (const oci::Namespace& ns : spec.linux_config->namespaces) {
    // A joined namespace counts too: it is not owned by the host's user namespace either.
    out.net = out.net || ns.type == "network";
    out.ipc = out.ipc || ns.type == "ipc";
    out.cgroup = out.cgroup || ns.type == "cgroup";
  }
  return out;
}

bool HostIsCgroupV2() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
}

Status PlanBindSource(const RootfsContext& context, size_t index, MountStep* step) {
  if (step->source.empty()) {
    return Err(Error::Invalid(Field("mounts", index, "source") + ": empty for a bind mount"));
  }
  if (step->source[0] != '/') {
    step->source = os::JoinPath(context.bundle, step->source);
  }
  struct stat st {};
  if (::stat(step->source.c_str(), &st) != 0) {
    return Err(
        Error::FromErrno("stat", Field("mounts", index, "source") + " \"" + step->source + "\""));
  }
  step->source_is_file = !S_ISDIR(st.st_mode);
  return Ok();
}

Result<MountStep> PlanMount(const oci::Mount& mount, size_t index, const RootfsContext& context,
                            const NamespaceFlags& ns) {
  if (mount.destination.empty() || mount.destination[0] != '/') {
    return Err(Error::Invalid(Field("mounts", index, "destination") + " \"" + mount.destination +
                              "\": not absolute"));
  }
  RETURN_IF_ERROR(
      CheckStaysInRoot(context.rootfs, mount.destination, Field("mounts", index, "destination")));
  if (!mount.uid_mappings.empty() || !mount.gid_mappings.empty()) {
    return Err(Error::Invalid(Field("mounts", index) + ": idmapped mounts not supported"));
  }
  auto options = ParseMountOptions(mount.options);
  if (!options) {
    return Err(std::move(options).error().AddContext(Field("mounts", index, "options")));
  }
  MountStep step;
  step.destination = mount.destination;
  step.source = mount.source;
  step.type = mount.type;
  step.data = options->data;
  step.flags = options->flags;
  step.propagation = options->propagation;
  step.attr_set = options->attr_set;
  step.attr_clr = options->attr_clr;
  bool user_ns = context.rootless || context.new_user_ns;
  if (mount.type == "bind" || options->bind) {
    step.kind = MountKind::kBind;
    step.type.clear();
    step.flags |= MS_BIND;
    RETURN_IF_ERROR(PlanBindSource(context, index, &step));
    return step;
  }
  step.flags &= ~static_cast<unsigned long>(MS_BIND | MS_REC);
  if (mount.type == "cgroup") {
    if (HostIsCgroupV2()) {
      step.type = "cgroup2";
    } else {
      step.kind = MountKind::kCgroupV1;
      step.type = "tmpfs";
    }
    step.source = "cgroup";
    step.fallback_bind = user_ns && !ns.cgroup ? "/sys/fs/cgroup" : "";
  } else if (mount.type == "cgroup2") {
    step.fallback_bind = user_ns && !ns.cgroup ? "/sys/fs/cgroup" : "";
  } else if (mount.type == "sysfs") {
    // sysfs needs a network namespace owned by the mounter's user namespace (runc's fallback).
    step.fallback_bind = user_ns && !ns.net ? "/sys" : "";
  } else if (mount.type == "mqueue") {
    step.fallback_bind = user_ns && !ns.ipc ? "/dev/mqueue" : "";
  }
  if (step.source.empty()) {
    step.source = step.type;
  }
  return step;
}

struct DefaultDevice {
  const char* path;
  unsigned int major;
  unsigned int minor;
};

constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

Result<DeviceStep> PlanDevice(const oci::Device& device, size_t index) {
  std::string field = Field("linux.devices", index);
  if (device.path.empty() || device.path[0] != '/') {
    return Err(Error::Invalid(field + ".path \"" + device.path + "\": not absolute"));
  }
  mode_t type = 0;
  if (device.type == "c" || device.type == "u") {
    type = S_IFCHR;
  } else if (device.type == "b") {
    type = S_IFBLK;
  } else if (device.type == "p") {
    type = S_IFIFO;
  } else {
    return Err(Error::Invalid(field + ".type \"" + device.type + "\": not one of c, u, b, p"));
  }
  if (device.major < 0 || device.minor < 0 || device.major > 0xfff || device.minor > 0xfffff) {
    return Err(Error::Invalid(field + ": major/minor out of range"));
  }
  DeviceStep step;
  step.path = device.path;
  step.host_path = device.path;
  step.mode = type | (device.file_mode.value_or(0666) & 07777);
  step.dev =
      makedev(static_cast<unsigned int>(device.major), static_cast<unsigned int>(device.minor));
  step.uid = device.uid.value_or(0);
  step.gid = device.gid.value_or(0);
  return step;
}

Status PlanDevices(const oci::Spec& spec, RootfsPlan* plan) {
  for (const DefaultDevice& d : kDefaultDevices) {
    DeviceStep step;
    step.path = d.path;
    step.host_path = d.path;
    step.mode = S_IFCHR | 0666;
    step.dev = makedev(d.major, d.minor);
    plan->devices.push_back(std::move(step));
  }
  if (spec.linux_config) {
    const auto& devices = spec.linux_config->devices;
    for (size_t i = 0; i < devices.size(); ++i) {
      ASSIGN_OR_RETURN(DeviceStep step, PlanDevice(devices[i], i));
      std::string clean = CleanAbsolute(step.path);
      std::erase_if(plan->devices, [&](const DeviceStep& d) { return d.path == clean; });
      plan->devices.push_back(std::move(step));
    }
  }
  plan->links = {{"/proc/self/fd", "/dev/fd"},
                 {"/proc/self/fd/0", "/dev/stdin"},
                 {"/proc/self/fd/1", "/dev/stdout"},
                 {"/proc/self/fd/2", "/dev/stderr"},
                 {"pts/ptmx", "/dev/ptmx"}};
  if (os::Exists("/proc/kcore")) {
    plan->links.push_back({"/proc/kcore", "/dev/core"});
  }
  return Ok();
}

Status PlanPathList(const std::vector<std::string>& paths, std::string_view field,
                    std::vector<std::string>* out) {
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i].empty() || paths[i][0] != '/') {
      return Err(Error::Invalid(Field(field, i) + " \"" + paths[i] + "\": not absolute"));
    }
    out->push_back(paths[i]);
  }
  return Ok();
}

Status PlanRoot(const oci::Spec& spec, const RootfsContext& context, RootfsPlan* plan) {
  plan->rootfs = context.rootfs;
  if (plan->rootfs.empty()) {
    plan->rootfs = spec.root.path;
  }
  if (!plan->rootfs.empty() && plan->rootfs[0] != '/') {
    plan->rootfs = os::JoinPath(context.bundle, plan->rootfs);
  }
  struct stat st {};
  if (plan->rootfs.empty() || ::stat(plan->rootfs.c_str(), &st) != 0) {
    return Err(Error::NotFound("root.path \"" + plan->rootfs + "\": no such directory"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Err(Error::Invalid("root.path \"" + plan->rootfs + "\": not a directory"));
  }
  plan->readonly = spec.root.readonly;
  plan->no_pivot = context.no_pivot;
  plan->use_mknod = !context.rootless && !context.new_user_ns;
  plan->new_cgroup_ns = context.new_cgroup_ns;
  std::string propagation = spec.linux_config ? spec.linux_config->rootfs_propagation : "";
  auto flags = ParsePropagation(propagation);
  if (!flags) {
    return Err(Error::Invalid("linux.rootfsPropagation \"" + propagation + "\": not one of " +
                              "shared, slave, private, unbindable (or their r forms)"));
  }
  plan->rootfs_propagation = *flags;
  // Nothing the container mounts may reach the host unless it asked for shared propagation.
  plan->root_propagation = *flags != 0 ? *flags : (MS_SLAVE | MS_REC);
  return Ok();
}

}  // namespace

Result<std::shared_ptr<const RootfsPlan>> PlanRootfs(const oci::Spec& spec,
                                                     const RootfsContext& context) {
  auto plan = std::make_shared<RootfsPlan>();
  RETURN_IF_ERROR(PlanRoot(spec, context, plan.get()));
  NamespaceFlags ns = NewNamespaces(spec);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    ASSIGN_OR_RETURN(MountStep step, PlanMount(spec.mounts[i], i, context, ns));
    if (step.kind == MountKind::kBind && CleanAbsolute(step.destination) == "/dev") {
      plan->setup_dev = false;
    }
    if (step.kind == MountKind::kCgroupV1 && plan->cgroup_hierarchies.empty()) {
      if (context.mountinfo != nullptr) {
        plan->cgroup_hierarchies = ParseCgroupV1Hierarchies(*context.mountinfo);
      } else {
        ASSIGN_OR_RETURN(plan->cgroup_hierarchies, ReadCgroupV1Hierarchies("/proc/self/mountinfo"));
      }
      // A hybrid host's unified tree holds no container group unless the runtime made one, so
      // binding "our" group there would show the host's whole tree; like runc, leave it out.
      // In a cgroup namespace a fresh cgroup2 mount is rooted at the container's group: keep it.
      if (!context.new_cgroup_ns) {
        std::erase_if(plan->cgroup_hierarchies,
                      [](const CgroupHierarchy& h) { return h.fs_type == "cgroup2"; });
      }
    }
    plan->mounts.push_back(std::move(step));
  }
  if (plan->setup_dev) {
    RETURN_IF_ERROR(PlanDevices(spec, plan.get()));
  }
  if (spec.linux_config) {
    RETURN_IF_ERROR(
        PlanPathList(spec.linux_config->masked_paths, "linux.maskedPaths", &plan->masked_paths));
    RETURN_IF_ERROR(PlanPathList(spec.linux_config->readonly_paths, "linux.readonlyPaths",
                                 &plan->readonly_paths));
  }
  return std::shared_ptr<const RootfsPlan>(std::move(plan));
}

}  // namespace comet::runtime
