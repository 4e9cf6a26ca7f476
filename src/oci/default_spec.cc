// DefaultSpec; see default_spec.h. The masked and read-only paths hide /proc and /sys files that
// leak host information or allow host changes (e.g. /proc/kcore, /proc/sysrq-trigger, and
// /sys/devices/virtual/powercap for CVE-2020-8694).
#include "oci/default_spec.h"

#include <unistd.h>

#include <utility>

#include "oci/spec_json.h"

namespace comet::oci {
namespace {

Mount MakeMount(std::string destination, std::string type, std::string source,
                std::vector<std::string> options = {}) {
  Mount m;
  m.destination = std::move(destination);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

std::vector<Mount> DefaultMounts(bool rootless) {
  std::vector<Mount> mounts;
  mounts.push_back(MakeMount("/proc", "proc", "proc"));
  mounts.push_back(
      MakeMount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  Mount devpts = MakeMount("/dev/pts", "devpts", "devpts",
                           {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
  if (!rootless) {
    devpts.options.emplace_back("gid=5");  // the "tty" group; unmapped in a rootless user namespace
  }
  mounts.push_back(std::move(devpts));
  mounts.push_back(MakeMount("/dev/shm", "tmpfs", "shm",
                             {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(MakeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless) {
    mounts.push_back(
        MakeMount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  } else {
    mounts.push_back(MakeMount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  }
  mounts.push_back(MakeMount("/sys/fs/cgroup", "cgroup", "cgroup",
                             {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return mounts;
}

Linux DefaultLinux(bool rootless) {
  Linux lc;
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    if (rootless && std::string_view(type) == "network") {
      continue;
    }
    lc.namespaces.push_back({.type = type, .path = {}});
  }
  if (rootless) {
    lc.namespaces.push_back({.type = "user", .path = {}});
    lc.uid_mappings.push_back({.container_id = 0, .host_id = geteuid(), .size = 1});
    lc.gid_mappings.push_back({.container_id = 0, .host_id = getegid(), .size = 1});
  } else {
    Resources resources;
    resources.devices.push_back(
        {.allow = false, .type = {}, .major = {}, .minor = {}, .access = "rwm"});
    lc.resources = std::move(resources);
  }
  lc.masked_paths = {"/proc/acpi",
                     "/proc/asound",
                     "/proc/kcore",
                     "/proc/keys",
                     "/proc/latency_stats",
                     "/proc/timer_list",
                     "/proc/timer_stats",
                     "/proc/sched_debug",
                     "/proc/scsi",
                     "/sys/firmware",
                     "/sys/devices/virtual/powercap"};
  lc.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return lc;
}

}  // namespace

Spec DefaultSpec(bool rootless) {
  Spec spec;
  spec.oci_version = kDefaultSpecVersion;

  Process process;
  process.terminal = true;
  process.args = {"sh"};
  process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  process.cwd = "/";
  std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  process.capabilities = Capabilities{
      .bounding = caps, .effective = caps, .inheritable = {}, .permitted = caps, .ambient = {}};
  process.rlimits.push_back({.type = "RLIMIT_NOFILE", .soft = 1024, .hard = 1024});
  process.no_new_privileges = true;
  spec.process = std::move(process);

  spec.root = {.path = "rootfs", .readonly = true};
  spec.hostname = "comet";
  spec.mounts = DefaultMounts(rootless);
  spec.linux_config = DefaultLinux(rootless);
  return spec;
}

}  // namespace comet::oci
