// cgroup v1 manager: one group per mounted hierarchy (cpu, memory, pids, ...; hierarchies that
// share a mount share the directory). Not thread-safe.
#include <fcntl.h>

#include <csignal>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "cgroup/backends.h"
#include "cgroup/devices.h"
#include "os/file.h"

namespace comet::cgroup {
namespace {

std::string Parent(const std::string& dir) {
  return dir.substr(0, dir.rfind('/'));
}

// A new v1 cpuset group starts with empty cpus and mems, and adding a task to it fails with
// ENOSPC: copy the parent's values into each level from the root down to `dir` where empty.
Status FillCpuset(const std::string& root, const std::string& dir) {
  std::vector<std::string> levels;
  for (std::string d = dir; d.size() > root.size(); d = Parent(d)) {
    levels.push_back(d);
  }
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      ASSIGN_OR_RETURN(std::string own, ReadValue(*it, file));
      if (!own.empty()) {
        continue;
      }
      ASSIGN_OR_RETURN(std::string parent, ReadValue(Parent(*it), file));
      RETURN_IF_ERROR(WriteValue(*it, file, parent));
    }
  }
  return Ok();
}

std::string Limit(int64_t value) {
  return value < 0 ? "-1" : std::to_string(value);
}

class V1Manager final : public Manager {
 public:
  explicit V1Manager(std::map<std::string, std::string> paths) : paths_(std::move(paths)) {}

  std::map<std::string, std::string> Paths() const override { return paths_; }

  Status Apply(const oci::Resources& r) override {
    if (!r.unified.empty()) {
      return Err(Error::Invalid("linux.resources.unified requires cgroup v2"));
    }
    if (r.memory) {
      RETURN_IF_ERROR(ApplyMemory(*r.memory));
    }
    if (r.cpu) {
      RETURN_IF_ERROR(ApplyCpu(*r.cpu));
    }
    if (r.pids) {
      ASSIGN_OR_RETURN(std::string dir, Dir("pids"));
      RETURN_IF_ERROR(
          WriteValue(dir, "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
    }
    if (!r.devices.empty()) {
      ASSIGN_OR_RETURN(std::string dir, Dir("devices"));
      ASSIGN_OR_RETURN(auto writes, V1DeviceWrites(r.devices));
      for (const V1DeviceWrite& w : writes) {
        RETURN_IF_ERROR(WriteValue(dir, w.allow ? "devices.allow" : "devices.deny", w.line));
      }
    }
    for (const oci::HugepageLimit& h : r.hugepage_limits) {
      ASSIGN_OR_RETURN(std::string dir, Dir("hugetlb"));
      RETURN_IF_ERROR(CheckPageSize(h.page_size));
      RETURN_IF_ERROR(
          WriteValue(dir, "hugetlb." + h.page_size + ".limit_in_bytes", std::to_string(h.limit)));
    }
    if (r.block_io) {
      RETURN_IF_ERROR(ApplyBlockIo(*r.block_io));
    }
    if (r.network) {
      RETURN_IF_ERROR(ApplyNetwork(*r.network));
    }
    return Ok();
  }

  Status AddProcess(pid_t pid) override {
    std::set<std::string> done;
    for (const auto& [controller, dir] : paths_) {
      if (done.insert(dir).second) {
        RETURN_IF_ERROR(WriteValue(dir, "cgroup.procs", std::to_string(pid)));
      }
    }
    return Ok();
  }

  Result<std::vector<SelfJoinFile>> OpenSelfJoinFiles() const override {
    std::vector<SelfJoinFile> files;
    std::set<std::string> done;
    for (const auto& [controller, dir] : paths_) {
      if (!done.insert(dir).second) {
        continue;
      }
      std::string path = os::JoinPath(dir, "tasks");
      os::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd) {
        if (errno == ENOENT) {
          return std::vector<SelfJoinFile>{};
        }
        return Err(Error::FromErrno("open", path));
      }
      files.push_back({std::move(fd), std::move(path)});
    }
    return files;
  }

  Status Freeze() override {
    ASSIGN_OR_RETURN(std::string dir, Dir("freezer"));
    RETURN_IF_ERROR(WriteValue(dir, "freezer.state", "FROZEN"));
    // FREEZING lasts until every task has stopped; a task forked meanwhile may be missed by
    // the first pass, so the state is written again while waiting.
    ASSIGN_OR_RETURN(bool frozen, PollUntil(10000, [&]() -> Result<bool> {
                       ASSIGN_OR_RETURN(std::string state, ReadValue(dir, "freezer.state"));
                       if (state == "FROZEN") {
                         return true;
                       }
                       RETURN_IF_ERROR(WriteValue(dir, "freezer.state", "FROZEN"));
                       return false;
                     }));
    if (!frozen) {
      (void)WriteValue(dir, "freezer.state", "THAWED");
      return Err(Error(EBUSY, "freezing " + dir + ": tasks did not stop within 10 s"));
    }
    return Ok();
  }

  Status Thaw() override {
    ASSIGN_OR_RETURN(std::string dir, Dir("freezer"));
    RETURN_IF_ERROR(WriteValue(dir, "freezer.state", "THAWED"));
    ASSIGN_OR_RETURN(bool thawed, PollUntil(10000, [&]() -> Result<bool> {
                       ASSIGN_OR_RETURN(std::string state, ReadValue(dir, "freezer.state"));
                       return state == "THAWED";
                     }));
    if (!thawed) {
      return Err(Error(EBUSY, "thawing " + dir + ": still not THAWED after 10 s"));
    }
    return Ok();
  }

  Result<bool> IsFrozen() const override {
    ASSIGN_OR_RETURN(std::string dir, Dir("freezer"));
    ASSIGN_OR_RETURN(std::string state, ReadValue(dir, "freezer.state"));
    return state == "FROZEN";
  }

  Result<std::vector<pid_t>> Pids() const override {
    // Every hierarchy holds every task; prefer one the runtime always has.
    for (const char* c : {"freezer", "pids", "memory", "name=systemd", "devices"}) {
      if (auto it = paths_.find(c); it != paths_.end()) {
        return ReadPidsRecursive(it->second);
      }
    }
    if (paths_.empty()) {
      return std::vector<pid_t>{};
    }
    return ReadPidsRecursive(paths_.begin()->second);
  }

  Status KillAll(int signal) override {
    return SignalAllFrozen(*this, signal, paths_.contains("freezer"));
  }

  Status Destroy() override {
    Status killed = KillAll(SIGKILL);
    if (!killed) {
      log::Debug("cgroup destroy: {}", killed.error().ToString());
    }
    Status result = Ok();
    std::set<std::string> done;
    for (const auto& [controller, dir] : paths_) {
      if (!done.insert(dir).second) {
        continue;
      }
      Status st = RemoveGroupTree(dir);
      if (!st && result) {
        result = std::move(st);
      }
    }
    return result;
  }

 private:
  Result<std::string> Dir(const std::string& controller) const {
    auto it = paths_.find(controller);
    if (it == paths_.end()) {
      return Err(Error::NotFound("cgroup v1 controller " + controller + " is not mounted"));
    }
    return it->second;
  }

  Status ApplyMemory(const oci::MemoryResources& m) {
    ASSIGN_OR_RETURN(std::string dir, Dir("memory"));
    if (m.limit) {
      Status st = WriteValue(dir, "memory.limit_in_bytes", Limit(*m.limit));
      // The limit may not exceed memory+swap: when raising both, memsw must go first.
      if (!st && st.error().code() == EINVAL && m.swap &&
          HasFile(dir, "memory.memsw.limit_in_bytes")) {
        RETURN_IF_ERROR(WriteValue(dir, "memory.memsw.limit_in_bytes", Limit(*m.swap)));
        st = WriteValue(dir, "memory.limit_in_bytes", Limit(*m.limit));
      }
      RETURN_IF_ERROR(st);
    }
    if (m.swap) {
      if (HasFile(dir, "memory.memsw.limit_in_bytes")) {
        RETURN_IF_ERROR(WriteValue(dir, "memory.memsw.limit_in_bytes", Limit(*m.swap)));
      } else {
        log::Warning(
            "swap limit ignored: memory.memsw.limit_in_bytes is absent (swap "
            "accounting is off; boot with swapaccount=1)");
      }
    }
    if (m.reservation) {
      RETURN_IF_ERROR(WriteValue(dir, "memory.soft_limit_in_bytes", Limit(*m.reservation)));
    }
    if (m.swappiness) {
      if (*m.swappiness > 100) {
        return Err(Error::Invalid("linux.resources.memory.swappiness " +
                                  std::to_string(*m.swappiness) + " is above 100"));
      }
      RETURN_IF_ERROR(WriteValue(dir, "memory.swappiness", std::to_string(*m.swappiness)));
    }
    if (m.disable_oom_killer.value_or(false)) {
      RETURN_IF_ERROR(WriteValue(dir, "memory.oom_control", "1"));
    }
    if (m.kernel || m.kernel_tcp) {
      log::Debug("linux.resources.memory.kernel and kernelTCP are ignored (deprecated)");
    }
    return Ok();
  }

  // Writes the non-empty ones of `first` and `second`, first then second; when the kernel rejects
  // the first with EINVAL because it conflicts with the old value of the second (cfs period vs
  // quota, rt period vs runtime), writes the second first.
  static Status WritePair(const std::string& dir, const char* first, const std::string& v1,
                          const char* second, const std::string& v2) {
    if (v1.empty() || v2.empty()) {
      return v1.empty() ? (v2.empty() ? Ok() : WriteValue(dir, second, v2))
                        : WriteValue(dir, first, v1);
    }
    Status st = WriteValue(dir, first, v1);
    if (!st && st.error().code() == EINVAL) {
      RETURN_IF_ERROR(WriteValue(dir, second, v2));
      return WriteValue(dir, first, v1);
    }
    RETURN_IF_ERROR(st);
    return WriteValue(dir, second, v2);
  }

  Status ApplyCpu(const oci::CpuResources& c) {
    if (c.shares || c.quota || c.period || c.realtime_runtime || c.realtime_period || c.idle) {
      ASSIGN_OR_RETURN(std::string dir, Dir("cpu"));
      if (c.shares.value_or(0) != 0) {
        RETURN_IF_ERROR(WriteValue(dir, "cpu.shares", std::to_string(*c.shares)));
      }
      std::string quota = c.quota.value_or(0) != 0 ? Limit(*c.quota) : "";
      std::string period = c.period.value_or(0) != 0 ? std::to_string(*c.period) : "";
      RETURN_IF_ERROR(WritePair(dir, "cpu.cfs_period_us", period, "cpu.cfs_quota_us", quota));
      std::string rt_period = c.realtime_period ? std::to_string(*c.realtime_period) : "";
      std::string rt_runtime = c.realtime_runtime ? Limit(*c.realtime_runtime) : "";
      RETURN_IF_ERROR(
          WritePair(dir, "cpu.rt_period_us", rt_period, "cpu.rt_runtime_us", rt_runtime));
      if (c.idle) {
        RETURN_IF_ERROR(WriteValue(dir, "cpu.idle", std::to_string(*c.idle)));
      }
    }
    if (!c.cpus.empty() || !c.mems.empty()) {
      ASSIGN_OR_RETURN(std::string dir, Dir("cpuset"));
      RETURN_IF_ERROR(WritePair(dir, "cpuset.cpus", c.cpus, "cpuset.mems", c.mems));
    }
    return Ok();
  }

  static std::string Device(int64_t major, int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
  }

  Status ApplyBlockIo(const oci::BlockIoResources& b) {
    ASSIGN_OR_RETURN(std::string dir, Dir("blkio"));
    // Without CFQ (kernel >= 5.0) the weight files are BFQ's.
    std::string prefix = HasFile(dir, "blkio.weight") ? "blkio." : "blkio.bfq.";
    if (b.weight) {
      RETURN_IF_ERROR(WriteValue(dir, prefix + "weight", std::to_string(*b.weight)));
    }
    if (b.leaf_weight) {
      RETURN_IF_ERROR(WriteValue(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
    }
    for (const oci::WeightDevice& d : b.weight_device) {
      if (d.weight) {
        RETURN_IF_ERROR(WriteValue(dir, prefix + "weight_device",
                                   Device(d.major, d.minor) + " " + std::to_string(*d.weight)));
      }
      if (d.leaf_weight) {
        RETURN_IF_ERROR(
            WriteValue(dir, "blkio.leaf_weight_device",
                       Device(d.major, d.minor) + " " + std::to_string(*d.leaf_weight)));
      }
    }
    const std::pair<const char*, const std::vector<oci::ThrottleDevice>*> throttles[] = {
        {"blkio.throttle.read_bps_device", &b.throttle_read_bps_device},
        {"blkio.throttle.write_bps_device", &b.throttle_write_bps_device},
        {"blkio.throttle.read_iops_device", &b.throttle_read_iops_device},
        {"blkio.throttle.write_iops_device", &b.throttle_write_iops_device}};
    for (const auto& [file, list] : throttles) {
      for (const oci::ThrottleDevice& d : *list) {
        RETURN_IF_ERROR(
            WriteValue(dir, file, Device(d.major, d.minor) + " " + std::to_string(d.rate)));
      }
    }
    return Ok();
  }

  Status ApplyNetwork(const oci::NetworkResources& n) {
    if (n.class_id) {
      ASSIGN_OR_RETURN(std::string dir, Dir("net_cls"));
      RETURN_IF_ERROR(WriteValue(dir, "net_cls.classid", std::to_string(*n.class_id)));
    }
    for (const auto& [iface, prio] : n.priorities) {
      ASSIGN_OR_RETURN(std::string dir, Dir("net_prio"));
      if (iface.empty() || iface.find_first_of(" \n") != std::string::npos) {
        return Err(
            Error::Invalid("network priority interface " + JsonQuote(iface) + " is not valid"));
      }
      RETURN_IF_ERROR(WriteValue(dir, "net_prio.ifpriomap", iface + " " + std::to_string(prio)));
    }
    return Ok();
  }

  std::map<std::string, std::string> paths_;
};

}  // namespace

Result<std::unique_ptr<Manager>> CreateV1(const Layout& layout, const GroupPath& group) {
  std::map<std::string, std::string> paths;
  std::vector<std::string> created;
  auto rollback = [&](Error err) {
    RemoveCreated(created);
    return Err(std::move(err));
  };
  for (const auto& [controller, root] : layout.v1_roots) {
    auto self = layout.self_paths.find(controller);
    std::string dir = GroupDir(root, self == layout.self_paths.end() ? "/" : self->second, group);
    if (Status st = MakeGroupDirs(root, dir, &created); !st) {
      return rollback(std::move(st).error());
    }
    if (controller == "cpuset") {
      if (Status st = FillCpuset(root, dir); !st) {
        return rollback(std::move(st).error());
      }
    }
    paths[controller] = dir;
  }
  if (paths.empty()) {
    return Err(Error::NotFound("no cgroup v1 hierarchy is mounted"));
  }
  return std::unique_ptr<Manager>(new V1Manager(std::move(paths)));
}

std::unique_ptr<Manager> OpenV1(std::map<std::string, std::string> paths) {
  return std::make_unique<V1Manager>(std::move(paths));
}

}  // namespace comet::cgroup
