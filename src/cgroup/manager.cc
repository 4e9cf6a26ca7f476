// Manager::Create and Open (choosing v1 or v2), CanWrite, and helpers shared by both versions.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "base/log.h"
#include "cgroup/backends.h"
#include "os/file.h"

namespace comet::cgroup {

Result<std::unique_ptr<Manager>> Manager::Create(const Layout& layout,
                                                 const std::string& cgroups_path,
                                                 const std::string& id) {
  ASSIGN_OR_RETURN(GroupPath group, ResolveGroupPath(cgroups_path, id));
  return layout.version == Version::kV1 ? CreateV1(layout, group) : CreateV2(layout, group);
}

Result<std::unique_ptr<Manager>> Manager::Open(const Layout& layout,
                                               const std::map<std::string, std::string>& paths) {
  if (layout.version == Version::kV2) {
    auto it = paths.find("");
    if (it == paths.end() || paths.size() != 1) {
      return Err(Error::Invalid("saved cgroup paths are not those of a cgroup v2 group"));
    }
    return OpenV2(it->second);
  }
  if (paths.empty() || paths.contains("")) {
    return Err(Error::Invalid("saved cgroup paths are not those of cgroup v1 groups"));
  }
  return OpenV1(paths);
}

namespace {

// Whether the nearest existing directory at or above `dir` (but not above `root`) is writable.
bool NearestWritable(const std::string& root, std::string dir) {
  while (dir.size() > root.size() && !os::Exists(dir)) {
    dir = dir.substr(0, dir.rfind('/'));
  }
  return ::access(dir.c_str(), W_OK) == 0;
}

}  // namespace

bool CanWrite(const Layout& layout, const std::string& cgroups_path, const std::string& id) {
  auto group = ResolveGroupPath(cgroups_path, id);
  if (!group) {
    return false;
  }
  auto self = [&](const std::string& key) {
    auto it = layout.self_paths.find(key);
    return it == layout.self_paths.end() ? std::string("/") : it->second;
  };
  if (layout.version == Version::kV2) {
    return NearestWritable(layout.unified_root, GroupDir(layout.unified_root, self(""), *group));
  }
  if (layout.v1_roots.empty()) {
    return false;
  }
  return std::all_of(layout.v1_roots.begin(), layout.v1_roots.end(), [&](const auto& entry) {
    return NearestWritable(entry.second, GroupDir(entry.second, self(entry.first), *group));
  });
}

Result<bool> PollUntil(int timeout_ms, const std::function<Result<bool>()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::microseconds(500);
  while (true) {
    ASSIGN_OR_RETURN(bool ok, done());
    if (ok) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
  }
}

Status SignalAllFrozen(Manager& m, int signal, bool can_freeze) {
  ASSIGN_OR_RETURN(std::vector<pid_t> pids, m.Pids());
  if (pids.empty()) {
    return Ok();
  }
  bool was_frozen = false;
  bool froze = false;
  if (can_freeze) {
    auto frozen = m.IsFrozen();
    was_frozen = frozen && *frozen;
    if (!was_frozen) {
      Status st = m.Freeze();
      froze = st.has_value();
      if (!st) {
        log::Debug("signalling without freezing: {}", st.error().ToString());
      }
    }
    if (froze || was_frozen) {
      ASSIGN_OR_RETURN(pids, m.Pids());  // a task may have forked before the freeze
    }
  }
  Status sent = SignalAll(pids, signal);
  // Frozen tasks act on a signal only once thawed; SIGKILL must take effect even in a group that
  // was paused before.
  if (froze || (was_frozen && signal == SIGKILL)) {
    RETURN_IF_ERROR(m.Thaw());
  }
  return sent;
}

}  // namespace comet::cgroup
