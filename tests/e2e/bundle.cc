// Bundle: rootfs assembly and the default config.
#include "e2e/bundle.h"

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/subprocess.h"
#include "os/file.h"

#ifndef COMET_RUNTIME_DEFAULT
#define COMET_RUNTIME_DEFAULT "crun"
#endif
#ifndef COMET_CHECKER_DEFAULT
#define COMET_CHECKER_DEFAULT "checker"
#endif

namespace comet::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBusybox = "/bin/busybox";

const std::vector<std::string>& Applets() {
  static const std::vector<std::string> kApplets = [] {
    std::vector<std::string> list;
    std::stringstream lines(Exec({kBusybox, "--list-full"}).out);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line != "bin/busybox") {
        list.push_back(line);
      }
    }
    return list;
  }();
  return kApplets;
}

void Die(const std::string& what) {
  (void)std::fprintf(stderr, "e2e bundle: %s\n", what.c_str());
  std::abort();
}

void BuildRootfs(const std::string& rootfs) {
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
                        "root", "run", "home/user"}) {
    fs::create_directories(rootfs + "/" + d);
  }
  fs::permissions(rootfs + "/tmp", static_cast<fs::perms>(01777));
  fs::copy_file(kBusybox, rootfs + "/bin/busybox");
  fs::copy_file(CheckerPath(), rootfs + "/bin/checker");
  for (const auto& applet : Applets()) {
    std::error_code ec;
    fs::create_symlink("/bin/busybox", fs::path(rootfs) / applet, ec);
  }
  WriteFileOrDie(rootfs + "/etc/passwd",
                 "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
  WriteFileOrDie(rootfs + "/etc/group", "root:x:0:\ntty:x:5:\nuser:x:1000:\n");
}

}  // namespace

std::string RuntimePath() {
  const char* env = std::getenv("COMET_RUNTIME");
  return env != nullptr && *env != '\0' ? env : COMET_RUNTIME_DEFAULT;
}

std::string CheckerPath() {
  const char* env = std::getenv("COMET_CHECKER");
  return env != nullptr && *env != '\0' ? env : COMET_CHECKER_DEFAULT;
}

std::string RuntimeName() {
  return fs::path(RuntimePath()).filename().string();
}

json DefaultConfig(const std::vector<std::string>& args, const BundleOptions& options) {
  json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
  });
  json namespaces = json::array();
  for (const char* t : {"pid", "ipc", "uts", "mount"}) {
    namespaces.push_back({{"type", t}});
  }
  json linux_section = {{"namespaces", namespaces},
                        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/sys/firmware"}},
                        {"readonlyPaths", {"/proc/sys", "/proc/sysrq-trigger"}}};
  if (options.rootless) {
    mounts.push_back({{"destination", "/sys"},
                      {"type", "none"},
                      {"source", "/sys"},
                      {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
    linux_section["namespaces"].push_back({{"type", "user"}});
    linux_section["uidMappings"] = {{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}}};
    linux_section["gidMappings"] = {{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}}};
  } else {
    mounts.push_back({{"destination", "/sys"},
                      {"type", "sysfs"},
                      {"source", "sysfs"},
                      {"options", {"nosuid", "noexec", "nodev", "ro"}}});
    mounts[2]["options"].push_back("gid=5");
    linux_section["namespaces"].push_back({{"type", "network"}});
    linux_section["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  }
  return {{"ociVersion", "1.0.2"},
          {"process",
           {{"terminal", false},
            {"user", {{"uid", 0}, {"gid", 0}}},
            {"args", args},
            {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "HOME=/root"}},
            {"cwd", "/"},
            {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
            {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
            {"noNewPrivileges", true}}},
          {"root", {{"path", "rootfs"}, {"readonly", false}}},
          {"hostname", "comet-e2e"},
          {"mounts", mounts},
          {"linux", linux_section}};
}

std::unique_ptr<Bundle> Bundle::Create(const std::vector<std::string>& args,
                                       const BundleOptions& options) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/comet-e2e-bundle-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    Die("mkdtemp " + pattern);
  }
  std::unique_ptr<Bundle> bundle(new Bundle(pattern));
  fs::permissions(bundle->dir_, static_cast<fs::perms>(0755));
  fs::create_directories(bundle->scratch());
  BuildRootfs(bundle->rootfs());
  bundle->config_ = DefaultConfig(args, options);
  bundle->Write();
  return bundle;
}

Bundle::~Bundle() {
  DetachAndRemove(dir_);
}

void Bundle::RemoveNamespace(const std::string& type) {
  auto& ns = config_["linux"]["namespaces"];
  for (auto it = ns.begin(); it != ns.end(); ++it) {
    if ((*it)["type"] == type) {
      ns.erase(it);
      return;
    }
  }
}

void Bundle::SetNamespace(const std::string& type, const std::string& path) {
  RemoveNamespace(type);
  json entry = {{"type", type}};
  if (!path.empty()) {
    entry["path"] = path;
  }
  config_["linux"]["namespaces"].push_back(entry);
}

void Bundle::Write() const {
  WriteFileOrDie(dir_ + "/config.json", config_.dump(2) + "\n");
}

std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::stringstream fields(line);
    std::string id;
    std::string parent;
    std::string devno;
    std::string root;
    std::string target;
    fields >> id >> parent >> devno >> root >> target;
    if (target == dir || target.rfind(dir + "/", 0) == 0) {
      found.push_back(target);
    }
  }
  return found;
}

std::vector<std::string> DetachAndRemove(const std::string& dir) {
  if (dir.empty()) {
    return {};
  }
  std::vector<std::string> found = MountsUnder(dir);
  // Deepest first, so that stacked mounts come off in order.
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a > b; });
  for (const auto& target : found) {
    ::umount2(target.c_str(), MNT_DETACH);
  }
  // Never recurse into a mount that is still there: it may be a host directory.
  if (MountsUnder(dir).empty()) {
    (void)os::RemoveAll(dir);
  } else {
    (void)std::fprintf(stderr, "e2e: not removing %s: mounts remain below it\n", dir.c_str());
  }
  return found;
}

}  // namespace comet::e2e
