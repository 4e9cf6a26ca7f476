// ReadCgroupV1Hierarchies (thread-safe) and MountCgroupV1 (a static buffer: only for the
// single-threaded container init).
#include "runtime/linux/rootfs_cgroup.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

#include "base/strings.h"
#include "os/file.h"
#include "runtime/linux/rootfs_child.h"
#include "runtime/linux/safe_path.h"

namespace comet::runtime {
namespace {

constexpr unsigned long kCgroupFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// The controllers and name= of a v1 super block's options, in the order /proc/self/cgroup
// prints them ("rw,cpu,cpuacct" -> "cpu,cpuacct"; "rw,xattr,name=systemd" -> "name=systemd").
std::string HierarchyKey(const std::string& super_options) {
  static const std::set<std::string> kNotControllers = {"rw",
                                                        "ro",
                                                        "xattr",
                                                        "noprefix",
                                                        "clone_children",
                                                        "cpuset_v2_mode",
                                                        "favordynmods",
                                                        "nofavordynmods"};
  std::vector<std::string> keep;
  for (const std::string& option : Split(super_options, ',')) {
    if (option.empty() || kNotControllers.contains(option) ||
        StartsWith(option, "release_agent=")) {
      continue;
    }
    keep.push_back(option);
  }
  return Join(keep, ",");
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<std::vector<CgroupHierarchy>> ReadCgroupV1Hierarchies(const std::string& mountinfo_path) {
  ASSIGN_OR_RETURN(std::string text, os::ReadFile(mountinfo_path));
  return ParseCgroupV1Hierarchies(text);
}

std::vector<CgroupHierarchy> ParseCgroupV1Hierarchies(const std::string& text) {
  std::vector<CgroupHierarchy> out;
  std::set<std::string> seen;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") {
      ++dash;
    }
    if (fields.size() < 5 || dash + 2 >= fields.size()) {
      continue;
    }
    const std::string& fs_type = fields[dash + 1];
    const std::string& mount_point = fields[4];
    if ((fs_type != "cgroup" && fs_type != "cgroup2") ||
        !StartsWith(mount_point, "/sys/fs/cgroup/")) {
      continue;
    }
    CgroupHierarchy h;
    h.name = BaseName(mount_point);
    h.host_mount = mount_point;
    h.mount_root = fields[3];
    h.fs_type = fs_type;
    h.key =
        fs_type == "cgroup2" ? "" : HierarchyKey(dash + 3 < fields.size() ? fields[dash + 3] : "");
    h.fs_options = h.key;
    if (h.name.empty() || !seen.insert(h.key).second) {
      continue;
    }
    if (h.name.find(',') != std::string::npos) {
      for (const std::string& part : Split(h.name, ',')) {
        h.links.push_back(part);
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

namespace {

// Reads the caller's /proc/self/cgroup into `buf` (NUL-terminated).
int ReadSelfCgroup(char* buf, size_t size) noexcept {
  int fd = ::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = ::read(fd, buf + used, size - 1 - used);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  buf[used] = '\0';
  ::close(fd);
  return 0;
}

// Writes host_mount + (the group of `key` relative to mount_root) into `out`.
bool GroupDir(const char* self, const CgroupHierarchy& h, char* out, size_t size) noexcept {
  size_t key_len = h.key.size();
  for (const char* line = self; *line != '\0';) {
    const char* end = std::strchr(line, '\n');
    size_t line_len = end != nullptr ? static_cast<size_t>(end - line) : std::strlen(line);
    size_t colon = 0;
    while (colon < line_len && line[colon] != ':') {
      ++colon;
    }
    if (colon < line_len) {
      const char* keys = line + colon + 1;
      size_t rest = line_len - static_cast<size_t>(keys - line);
      if (rest > key_len && std::memcmp(keys, h.key.c_str(), key_len) == 0 &&
          keys[key_len] == ':') {
        const char* group = keys + key_len + 1;
        size_t group_len = rest - key_len - 1;
        size_t root_len = h.mount_root == "/" ? 0 : h.mount_root.size();
        if (root_len <= group_len && std::memcmp(group, h.mount_root.c_str(), root_len) == 0) {
          group += root_len;
          group_len -= root_len;
        }
        size_t base = h.host_mount.size();
        if (base + group_len + 1 > size) {
          return false;
        }
        CopyString(out, size, h.host_mount.c_str());
        CopyString(out + base, group_len + 1, group);  // stops at the line's end
        return true;
      }
    }
    line = end != nullptr ? end + 1 : line + line_len;
  }
  return false;
}

int MountHierarchy(const RootfsPlan& plan, const CgroupHierarchy& h, const char* self, int dir_fd,
                   unsigned long ro) noexcept {
  FdPath target(dir_fd);
  if (plan.new_cgroup_ns) {
    // In its own cgroup namespace the hierarchy mounted afresh shows the container's group
    // as its root.
    const char* data = h.fs_options.empty() ? nullptr : h.fs_options.c_str();
    return ::mount(h.fs_type.c_str(), target.Path(), h.fs_type.c_str(), kCgroupFlags | ro, data);
  }
  char dir[PATH_MAX];
  if (!GroupDir(self, h, dir, sizeof(dir))) {
    errno = ENOENT;
    return -1;
  }
  if (::mount(dir, target.Path(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return -1;
  }
  return 0;
}

}  // namespace

int MountCgroupV1(const RootfsPlan& plan, const MountStep& step, int root_fd,
                  ChildReport* report) noexcept {
  const char* dest = step.destination.c_str();
  int fd = OpenOrCreateInRoot(root_fd, dest, CreateAs::kDirectory);
  if (fd < 0 || ::mount("tmpfs", FdPath(fd).Path(), "tmpfs", kCgroupFlags, "mode=755") != 0) {
    report->Set(errno, "mount", dest);
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  ::close(fd);
  int tmpfs_fd = OpenInRoot(root_fd, dest, O_DIRECTORY | O_RDONLY);  // the new tmpfs
  static char self[16384];  // static: this runs in a single-threaded child, keep the stack small
  if (tmpfs_fd < 0 || ReadSelfCgroup(self, sizeof(self)) != 0) {
    report->Set(errno, "mount", dest);
    return -1;
  }
  unsigned long ro = step.flags & MS_RDONLY;
  for (const CgroupHierarchy& h : plan.cgroup_hierarchies) {
    int dir_fd = -1;
    if (::mkdirat(tmpfs_fd, h.name.c_str(), 0755) == 0) {
      dir_fd = ::openat(tmpfs_fd, h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (dir_fd < 0 || MountHierarchy(plan, h, self, dir_fd, ro) != 0) {
      report->Set(errno, "mount cgroup", h.host_mount.c_str());
      ::close(tmpfs_fd);
      return -1;
    }
    ::close(dir_fd);
    if (!plan.new_cgroup_ns) {
      dir_fd = ::openat(tmpfs_fd, h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      // A bind keeps the host mount's flags; lock down like the host's own cgroup mounts.
      if (dir_fd < 0 || RemountBind(FdPath(dir_fd).Path(), kCgroupFlags | ro) != 0) {
        report->Set(errno, "remount cgroup", h.host_mount.c_str());
        ::close(tmpfs_fd);
        return -1;
      }
      ::close(dir_fd);
    }
    for (const std::string& link : h.links) {
      if (link != h.name) {
        // Best effort, like the links cgroupfs itself would show: a missing alias is harmless.
        if (::symlinkat(h.name.c_str(), tmpfs_fd, link.c_str()) != 0) {
          continue;
        }
      }
    }
  }
  int rc = 0;
  if (ro != 0 && RemountBind(FdPath(tmpfs_fd).Path(), kCgroupFlags | ro) != 0) {
    report->Set(errno, "remount", dest);
    rc = -1;
  }
  ::close(tmpfs_fd);
  return rc;
}

}  // namespace comet::runtime
