// cgroup v2 manager: one group in the unified hierarchy. Not thread-safe.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "cgroup/backends.h"
#include "cgroup/devices.h"
#include "os/file.h"

namespace comet::cgroup {
namespace {

std::string Max(int64_t value) {
  return value < 0 ? "max" : std::to_string(value);
}

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> out;
  for (const std::string& w : Split(text, ' ')) {
    std::string_view t = TrimSpace(w);
    if (!t.empty()) {
      out.emplace(t);
    }
  }
  return out;
}

// Enables in `dir`'s cgroup.subtree_control every controller it has and has not enabled yet, so
// that its child gets their files. Best effort: a controller that cannot be enabled (threaded
// subtree, a parent with tasks, an unwritable ancestor of a delegated group) is left out and
// Apply reports the missing file if the container needs it.
void EnableControllers(const std::string& dir) {
  auto available = ReadValue(dir, "cgroup.controllers");
  auto enabled = ReadValue(dir, "cgroup.subtree_control");
  if (!available || !enabled) {
    return;
  }
  std::set<std::string> on = Words(*enabled);
  std::vector<std::string> missing;
  for (const std::string& c : Words(*available)) {
    if (!on.contains(c)) {
      missing.push_back("+" + c);
    }
  }
  if (missing.empty() || WriteValue(dir, "cgroup.subtree_control", Join(missing, " "))) {
    return;
  }
  for (const std::string& c : missing) {
    if (Status st = WriteValue(dir, "cgroup.subtree_control", c); !st) {
      log::Debug("cgroup: {}", st.error().ToString());
    }
  }
}

// cpu.shares (2..262144) to cpu.weight (1..10000), the mapping runc and crun use.
uint64_t SharesToWeight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

// blkio.weight (10..1000) to io.weight (1..10000).
uint64_t BlkioToIoWeight(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

class V2Manager final : public Manager {
 public:
  explicit V2Manager(std::string dir) : dir_(std::move(dir)) {}

  std::map<std::string, std::string> Paths() const override { return {{"", dir_}}; }

  Status Apply(const oci::Resources& r) override {
    if (r.memory) {
      RETURN_IF_ERROR(ApplyMemory(*r.memory));
    }
    if (r.cpu) {
      RETURN_IF_ERROR(ApplyCpu(*r.cpu));
    }
    if (r.pids) {
      RETURN_IF_ERROR(
          WriteValue(dir_, "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
    }
    for (const oci::HugepageLimit& h : r.hugepage_limits) {
      RETURN_IF_ERROR(CheckPageSize(h.page_size));
      RETURN_IF_ERROR(WriteValue(dir_, "hugetlb." + h.page_size + ".max", std::to_string(h.limit)));
    }
    if (r.block_io) {
      RETURN_IF_ERROR(ApplyIo(*r.block_io));
    }
    if (r.network && (r.network->class_id || !r.network->priorities.empty())) {
      return Err(Error::Invalid("linux.resources.network requires cgroup v1 (net_cls, net_prio)"));
    }
    if (!r.devices.empty()) {
      RETURN_IF_ERROR(ApplyDevices(r.devices));
    }
    return ApplyUnified(r.unified);
  }

  Status AddProcess(pid_t pid) override {
    return WriteValue(dir_, "cgroup.procs", std::to_string(pid));
  }

  Result<std::vector<SelfJoinFile>> OpenSelfJoinFiles() const override {
    return std::vector<SelfJoinFile>{};
  }

  Status Freeze() override {
    RETURN_IF_ERROR(WriteValue(dir_, "cgroup.freeze", "1"));
    ASSIGN_OR_RETURN(bool frozen, PollUntil(10000, [&] { return IsFrozen(); }));
    if (!frozen) {
      (void)WriteValue(dir_, "cgroup.freeze", "0");
      return Err(Error(EBUSY, "freezing " + dir_ + ": cgroup.events did not say frozen in 10 s"));
    }
    return Ok();
  }

  Status Thaw() override { return WriteValue(dir_, "cgroup.freeze", "0"); }

  Result<bool> IsFrozen() const override {
    ASSIGN_OR_RETURN(std::string events, ReadValue(dir_, "cgroup.events"));
    for (const std::string& line : Split(events, '\n')) {
      if (TrimSpace(line) == "frozen 1") {
        return true;
      }
    }
    return false;
  }

  Result<std::vector<pid_t>> Pids() const override { return ReadPidsRecursive(dir_); }

  Status KillAll(int signal) override {
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included.
    if (signal == SIGKILL && HasFile(dir_, "cgroup.kill")) {
      return WriteValue(dir_, "cgroup.kill", "1");
    }
    return SignalAllFrozen(*this, signal, HasFile(dir_, "cgroup.freeze"));
  }

  Status Destroy() override {
    if (!os::Exists(dir_)) {
      return Ok();
    }
    if (Status st = KillAll(SIGKILL); !st) {
      log::Debug("cgroup destroy: {}", st.error().ToString());
    }
    return RemoveGroupTree(dir_);
  }

 private:
  Status ApplyMemory(const oci::MemoryResources& m) {
    if (m.limit) {
      RETURN_IF_ERROR(WriteValue(dir_, "memory.max", Max(*m.limit)));
    }
    if (m.reservation) {
      RETURN_IF_ERROR(WriteValue(dir_, "memory.low", Max(*m.reservation)));
    }
    // OCI's swap is memory+swap (v1); memory.swap.max is the swap alone.
    if (m.swap && *m.swap != 0) {
      std::string value;
      if (*m.swap < 0) {
        value = "max";
      } else if (!m.limit || *m.limit <= 0) {
        return Err(Error::Invalid("linux.resources.memory.swap needs memory.limit on cgroup v2"));
      } else if (*m.swap < *m.limit) {
        return Err(Error::Invalid("linux.resources.memory.swap (memory+swap) " +
                                  std::to_string(*m.swap) + " is below the memory limit " +
                                  std::to_string(*m.limit)));
      } else {
        value = std::to_string(*m.swap - *m.limit);
      }
      RETURN_IF_ERROR(WriteValue(dir_, "memory.swap.max", value));
    }
    if (m.swappiness) {
      log::Warning("linux.resources.memory.swappiness is ignored on cgroup v2");
    }
    if (m.disable_oom_killer.value_or(false)) {
      log::Warning("linux.resources.memory.disableOOMKiller is ignored on cgroup v2");
    }
    return Ok();
  }

  Status ApplyCpu(const oci::CpuResources& c) {
    if (c.shares && *c.shares != 0) {
      RETURN_IF_ERROR(WriteValue(dir_, "cpu.weight", std::to_string(SharesToWeight(*c.shares))));
    }
    bool has_quota = c.quota && *c.quota != 0;
    bool has_period = c.period && *c.period != 0;
    if (has_quota || has_period) {
      std::string value = has_quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      value += " " + std::to_string(has_period ? *c.period : 100000);
      RETURN_IF_ERROR(WriteValue(dir_, "cpu.max", value));
    }
    if (c.idle) {
      RETURN_IF_ERROR(WriteValue(dir_, "cpu.idle", std::to_string(*c.idle)));
    }
    if (c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0) {
      return Err(Error::Invalid("linux.resources.cpu realtime limits require cgroup v1"));
    }
    if (!c.cpus.empty()) {
      RETURN_IF_ERROR(WriteValue(dir_, "cpuset.cpus", c.cpus));
    }
    if (!c.mems.empty()) {
      RETURN_IF_ERROR(WriteValue(dir_, "cpuset.mems", c.mems));
    }
    return Ok();
  }

  Status ApplyIo(const oci::BlockIoResources& b) {
    // With BFQ the weight has blkio's range and its own file; else io.weight's range.
    bool bfq = HasFile(dir_, "io.bfq.weight");
    auto weight = [&](uint16_t w) { return std::to_string(bfq ? w : BlkioToIoWeight(w)); };
    const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
    if (b.weight) {
      RETURN_IF_ERROR(WriteValue(dir_, weight_file, weight(*b.weight)));
    }
    for (const oci::WeightDevice& d : b.weight_device) {
      if (d.weight) {
        RETURN_IF_ERROR(WriteValue(
            dir_, weight_file,
            std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + weight(*d.weight)));
      }
    }
    const std::pair<const char*, const std::vector<oci::ThrottleDevice>*> throttles[] = {
        {"rbps", &b.throttle_read_bps_device},
        {"wbps", &b.throttle_write_bps_device},
        {"riops", &b.throttle_read_iops_device},
        {"wiops", &b.throttle_write_iops_device}};
    for (const auto& [key, list] : throttles) {
      for (const oci::ThrottleDevice& d : *list) {
        RETURN_IF_ERROR(WriteValue(dir_, "io.max",
                                   std::to_string(d.major) + ":" + std::to_string(d.minor) + " " +
                                       key + "=" + std::to_string(d.rate)));
      }
    }
    return Ok();
  }

  Status ApplyDevices(const std::vector<oci::DeviceCgroup>& rules) {
    ASSIGN_OR_RETURN(std::vector<bpf_insn> prog, BuildDeviceProgram(rules));
    Status st = AttachDeviceProgram(dir_, prog);
    if (!st && st.error().code() == EPERM && ::geteuid() != 0) {
      // Unprivileged users cannot load BPF programs; device nodes they may open are limited by
      // their own permissions, as with runc and crun in rootless mode.
      log::Warning("device rules not enforced: {}", st.error().ToString());
      return Ok();
    }
    return st;
  }

  Status ApplyUnified(const std::map<std::string, std::string>& unified) {
    for (const auto& [key, value] : unified) {
      if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..") {
        return Err(Error::Invalid("linux.resources.unified key " + JsonQuote(key) +
                                  " is not a file name"));
      }
      RETURN_IF_ERROR(WriteValue(dir_, key, value));
    }
    return Ok();
  }

  std::string dir_;
};

}  // namespace

Result<std::unique_ptr<Manager>> CreateV2(const Layout& layout, const GroupPath& group) {
  auto self = layout.self_paths.find("");
  std::string dir =
      GroupDir(layout.unified_root, self == layout.self_paths.end() ? "/" : self->second, group);
  std::vector<std::string> created;
  if (Status st = MakeGroupDirs(layout.unified_root, dir, &created); !st) {
    RemoveCreated(created);
    return Err(std::move(st).error());
  }
  for (std::string d = layout.unified_root; d.size() < dir.size();) {
    EnableControllers(d);
    size_t next = dir.find('/', d.size() + 1);
    d = dir.substr(0, next);
  }
  return std::unique_ptr<Manager>(new V2Manager(std::move(dir)));
}

std::unique_ptr<Manager> OpenV2(std::string dir) {
  return std::make_unique<V2Manager>(std::move(dir));
}

}  // namespace comet::cgroup
