// TeardownPod: undoes what a pod left on the host, step by step, each step tried whatever the
// others did. See teardown.h. Not thread-safe (the caller holds the pod's lock).
#include "pod/teardown.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "cgroup/manager.h"
#include "image/snapshot.h"
#include "image/store.h"
#include "os/file.h"
#include "pod/manifest.h"
#include "pod/mount_table.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "pod/volatile_dir.h"
#include "runtime/runtime.h"

namespace comet::pod {
namespace {

// Keeps the first error; later ones are logged (at debug) so that nothing is lost silently.
class Errors {
 public:
  void Add(Status status, std::string_view step) {
    if (status) {
      return;
    }
    Error error = std::move(status).error().AddContext(std::string(step));
    log::Debug("pod teardown: {}", error.ToString());
    if (!first_) {
      first_ = std::move(error);
    }
  }
  Status Result() {
    if (first_) {
      return Err(std::move(*first_));
    }
    return Ok();
  }

 private:
  std::optional<Error> first_;
};

// The pod's runtime containers (state root <pod>/runtime): SIGKILL to everything in their
// cgroups, then a forced delete (which also removes their cgroups and state).
Status KillContainers(const std::string& pod_dir, const TeardownOptions& options) {
  std::string root = RuntimeRoot(pod_dir);
  if (!os::IsDirectory(root)) {
    return Ok();
  }
  runtime::GlobalOptions global;
  global.root = root;
  if (options.rootless) {
    global.rootless = true;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids, runtime::ContainerIds(global));
  Errors errors;
  for (const std::string& id : ids) {
    runtime::KillOptions kill{.id = id, .signal = SIGKILL, .all = true};
    // A stopped container refuses signals; the forced delete below is what must work.
    (void)runtime::Kill(global, kill);
    errors.Add(runtime::Delete(global, id, /*force=*/true),
               fmt::format("deleting container {}", id));
  }
  return errors.Result();
}

// /comet/pod-<uuid> in every hierarchy: what is left in it is killed, then the tree removed.
Status RemovePodCgroup(std::string_view uuid) {
  ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::DetectLayout());
  std::string relative = PodCgroupPath(uuid);
  Errors errors;
  auto destroy = [&](const cgroup::Layout& for_layout,
                     const std::map<std::string, std::string>& paths) {
    if (paths.empty()) {
      return;
    }
    auto manager = cgroup::Manager::Open(for_layout, paths);
    if (!manager) {
      errors.Add(Err(std::move(manager).error()), "opening the pod cgroup");
      return;
    }
    errors.Add((*manager)->Destroy(), fmt::format("removing cgroup {}", relative));
  };
  std::map<std::string, std::string> v1;
  for (const auto& [controller, mount] : layout.v1_roots) {
    std::string dir = mount + relative;
    if (layout.version == cgroup::Version::kV1 && os::IsDirectory(dir)) {
      v1[controller] = dir;
    }
  }
  destroy(layout, v1);
  // v2, or the unified mount of a hybrid host (empty of controllers, but groups can be made).
  std::string unified = layout.unified_root.empty() ? "" : layout.unified_root + relative;
  if (!unified.empty() && os::IsDirectory(unified)) {
    cgroup::Layout v2 = layout;
    v2.version = cgroup::Version::kV2;
    destroy(v2, {{"", unified}});
  }
  return errors.Result();
}

// Everything mounted at or below the pod directory in this mount namespace, deepest first; a
// busy mount is detached (it goes away when its last user does).
Status UnmountLeftovers(const std::string& pod_dir) {
  if (!os::IsDirectory(pod_dir)) {
    return Ok();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> mounts, internal::CurrentMountPointsUnder(pod_dir));
  Errors errors;
  for (const std::string& point : mounts) {
    if (::umount2(point.c_str(), UMOUNT_NOFOLLOW) == 0) {
      continue;
    }
    if (errno == EBUSY && ::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
      continue;
    }
    // EINVAL/ENOENT: gone already (detached with a parent, or a stacked copy).
    if (errno != EINVAL && errno != ENOENT) {
      errors.Add(Err(Error::FromErrno("umount", point)), "unmounting");
    }
  }
  return errors.Result();
}

// The names under <pod>/apps (the manifest may be missing or torn in a half-made pod).
std::vector<std::string> AppDirNames(const std::string& pod_dir) {
  std::vector<std::string> names;
  std::string apps = os::JoinPath(pod_dir, "apps");
  int fd = ::open(apps.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) {
      ::close(fd);
    }
    return names;
  }
  while (struct dirent* entry = ::readdir(dir)) {
    if (IsValidName(entry->d_name)) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(dir);
  return names;
}

Status RemoveSnapshots(const std::string& pod_dir) {
  Errors errors;
  for (const std::string& app : AppDirNames(pod_dir)) {
    // (An older pod's apps/<app>/snapshot goes with it: UnmountLeftovers unmounted it first.)
    errors.Add(image::RemoveSnapshot(AppSnapshotDir(pod_dir, app)),
               fmt::format("removing the snapshot of app {}", app));
  }
  return errors.Result();
}

Status ReleaseLease(std::string_view uuid, const std::string& store_dir) {
  // Opening creates a missing store; there is no lease to release in one.
  if (!os::IsDirectory(store_dir)) {
    return Ok();
  }
  return image::ReleaseStoreLease(store_dir, PodLeaseName(uuid));
}

}  // namespace

Status TeardownPod(const std::string& pod_dir, const std::string& uuid,
                   const TeardownOptions& options) {
  // The uuid names cgroups and a lease: never let a bad one reach rmdir.
  if (!IsValidUuid(uuid)) {
    return Err(Error::Invalid(fmt::format("pod teardown: \"{}\" is not a pod uuid", uuid)));
  }
  Errors errors;
  // Before anything goes through <pod>/state: a planted or swapped link leads elsewhere.
  errors.Add(DropUntrustedVolatileLink(pod_dir, uuid), "checking the volatile directory");
  errors.Add(KillContainers(pod_dir, options), "killing the pod's containers");
  // Its apps are dead: the pod's networks go (the supervisor detaches them itself on a normal
  // end; these are a killed supervisor's). Their records are in the volatile directory: when
  // the DEL fails, that stays for the next try.
  Status networks = DetachNetworks(pod_dir, uuid);
  const bool networks_gone = static_cast<bool>(networks);
  errors.Add(std::move(networks), "removing the pod's networks");
  errors.Add(RemovePodCgroup(uuid), "removing the pod cgroup");
  errors.Add(UnmountLeftovers(pod_dir), "unmounting");
  errors.Add(RemoveSnapshots(pod_dir), "removing snapshots");
  if (!options.image_store_dir.empty()) {
    errors.Add(ReleaseLease(uuid, options.image_store_dir), "releasing the image lease");
  }
  // Last: the runtime's state in it was what KillContainers went by.
  if (networks_gone) {
    errors.Add(RemoveVolatileDir(pod_dir, uuid), "removing the volatile directory");
  }
  Status result = errors.Result();
  if (!result) {
    return Err(std::move(result).error().AddContext(fmt::format("tearing down pod {}", uuid)));
  }
  return Ok();
}

}  // namespace comet::pod
