// DetectLayout and ParseLayout: where the cgroup hierarchies are mounted and which groups the
// caller is in, from /proc/self/mountinfo and /proc/self/cgroup.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "cgroup/manager.h"
#include "os/file.h"

namespace comet::cgroup {
namespace {

constexpr std::array<std::string_view, 14> kV1Controllers = {
    "cpu",  "cpuacct", "cpuset",  "memory",   "devices",    "freezer", "blkio",
    "pids", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma",    "misc"};

bool IsV1Controller(std::string_view option) {
  if (StartsWith(option, "name=")) {
    return option.size() > 5;
  }
  return std::find(kV1Controllers.begin(), kV1Controllers.end(), option) != kV1Controllers.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)).
std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        ok = ok && c >= '0' && c <= '7';
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

// Splits on single spaces (mountinfo never has empty fields).
std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  for (std::string& f : Split(line, ' ')) {
    if (!f.empty()) {
      out.push_back(std::move(f));
    }
  }
  return out;
}

// Fills the roots of `layout` from mountinfo; returns whether cgroup2 is at /sys/fs/cgroup.
bool ParseMounts(const std::string& mountinfo, Layout* layout) {
  bool unified_is_main = false;
  for (const std::string& line : Split(mountinfo, '\n')) {
    // id parent dev root mount-point options [optional...] - fstype source super-options
    std::vector<std::string> f = Fields(line);
    auto dash = std::find(f.begin() + std::min<ptrdiff_t>(6, std::ssize(f)), f.end(), "-");
    if (f.end() - dash < 4) {
      continue;
    }
    const std::string& fstype = dash[1];
    std::string mount_point = Unescape(f[4]);
    if (fstype == "cgroup2" && (layout->unified_root.empty() || mount_point == "/sys/fs/cgroup")) {
      layout->unified_root = mount_point;
      unified_is_main = mount_point == "/sys/fs/cgroup";
    } else if (fstype == "cgroup") {
      for (const std::string& option : Split(dash[3], ',')) {
        if (IsV1Controller(option) && !layout->v1_roots.contains(option)) {
          layout->v1_roots[option] = mount_point;
        }
      }
    }
  }
  return unified_is_main;
}

// Fills self_paths from /proc/self/cgroup lines "id:controllers:path" ("0::path" for v2).
void ParseSelf(const std::string& proc_cgroup, Layout* layout) {
  for (const std::string& line : Split(proc_cgroup, '\n')) {
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    std::string path = line.substr(second + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (controllers.empty()) {
      layout->self_paths[""] = path;
    }
    for (const std::string& c : Split(controllers, ',')) {
      if (!c.empty()) {
        layout->self_paths[c] = path;
      }
    }
  }
}

}  // namespace

Result<Layout> ParseLayout(const std::string& mountinfo, const std::string& proc_cgroup) {
  Layout layout;
  bool unified_is_main = ParseMounts(mountinfo, &layout);
  if (layout.v1_roots.empty() || unified_is_main) {
    if (layout.unified_root.empty()) {
      return Err(Error::NotFound("no cgroup filesystem is mounted"));
    }
    layout.version = Version::kV2;
    layout.v1_roots.clear();
  } else {
    layout.version = Version::kV1;
  }
  ParseSelf(proc_cgroup, &layout);
  return layout;
}

Result<Layout> DetectLayout() {
  ASSIGN_OR_RETURN(std::string mountinfo, os::ReadFile("/proc/self/mountinfo"));
  ASSIGN_OR_RETURN(std::string proc_cgroup, os::ReadFile("/proc/self/cgroup"));
  return ParseLayout(mountinfo, proc_cgroup);
}

}  // namespace comet::cgroup
