// Context, status derivation and state views shared by the runtime verbs.
#include <unistd.h>

#include "base/log.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "runtime/container_ops.h"

namespace comet::runtime {

RuntimeContext MakeContext(const GlobalOptions& global) {
  RuntimeContext context;
  context.rootless = global.rootless.value_or(::geteuid() != 0);
  context.systemd_cgroup = global.systemd_cgroup;
  context.seccomp_cache_dir = global.seccomp_cache_dir;
  context.store = ContainerStore(global.root.empty() ? ContainerStore::DefaultRoot(context.rootless)
                                                     : global.root);
  return context;
}

std::string ComputeStatus(const RuntimeContext& context, const ContainerRecord& record) {
  if (record.pid <= 0) {
    return "creating";
  }
  if (ProcessStartTime(record.pid) != record.pid_start_time || record.pid_start_time == 0) {
    return "stopped";
  }
  if (!record.started && os::Exists(context.store.FifoPath(record.id))) {
    return "created";
  }
  if (auto cgroups = OpenCgroups(record); cgroups && *cgroups) {
    auto frozen = (*cgroups)->IsFrozen();
    if (frozen && *frozen) {
      return "paused";
    }
  }
  return "running";
}

oci::State MakeState(const ContainerRecord& record, const std::string& status) {
  oci::State state;
  state.oci_version = "1.2.0";
  state.id = record.id;
  state.status = status;
  state.pid = status == "stopped" ? 0 : record.pid;
  state.bundle = record.bundle;
  state.annotations = record.annotations;
  return state;
}

Result<oci::Spec> LoadSavedSpec(const RuntimeContext& context, const std::string& id) {
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(context.store.ConfigPath(id), 64U << 20));
  return oci::ParseSpec(text);
}

const oci::Hooks* HooksOf(const RuntimeContext& context, const std::string& id,
                          const oci::Hooks* known, std::optional<oci::Spec>& loaded) {
  if (known != nullptr) {
    return known;
  }
  auto spec = LoadSavedSpec(context, id);
  if (!spec || !spec->hooks) {
    return nullptr;
  }
  loaded = std::move(*spec);
  return &*loaded->hooks;
}

Result<std::unique_ptr<cgroup::Manager>> OpenCgroups(const ContainerRecord& record) {
  if (record.cgroup_paths.empty()) {
    return std::unique_ptr<cgroup::Manager>();
  }
  ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::DetectLayout());
  return cgroup::Manager::Open(layout, record.cgroup_paths);
}

Result<std::vector<cgroup::SelfJoinFile>> PlanCgroupSelfJoin(const cgroup::Manager* cgroups,
                                                             InitPlan& plan) {
  plan.cgroup_joins.clear();
  if (cgroups == nullptr) {
    return std::vector<cgroup::SelfJoinFile>{};
  }
  ASSIGN_OR_RETURN(auto files, cgroups->OpenSelfJoinFiles());
  for (const cgroup::SelfJoinFile& file : files) {
    plan.cgroup_joins.push_back({file.fd.get(), file.path});
  }
  return files;
}

}  // namespace comet::runtime
