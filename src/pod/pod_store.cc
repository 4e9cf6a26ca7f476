// The pods directory's transitions: creating a pod, moving it between phase directories under its
// flock(2), and removing it (see pod_store.h, docs/pod-lifecycle.md; listing is in
// pod_store_list.cc). Safe across processes.
#include "pod/pod_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "os/file.h"
#include "os/group_dir.h"
#include "pod/manifest.h"
#include "pod/mount_table.h"
#include "pod/phase_dir.h"
#include "pod/spare_pod_dir.h"
#include "pod/volatile_dir.h"

namespace comet::pod {

using internal::CheckUuid;
using internal::Flock;
using internal::kEmbryo;
using internal::kExitedGarbage;
using internal::kGarbage;
using internal::kPrepare;
using internal::kPrepared;
using internal::kRun;
using internal::Move;
using internal::OpenPodDir;
using internal::PodPath;
using internal::TryLockExclusive;

// ---- Pod ----

Pod::Pod(std::string pods_dir, std::string uuid, std::string phase_dir, os::UniqueFd lock)
    : pods_dir_(std::move(pods_dir)),
      uuid_(std::move(uuid)),
      phase_dir_(std::move(phase_dir)),
      path_(PodPath(pods_dir_, phase_dir_, uuid_)),
      lock_(std::move(lock)) {}

Status Pod::MoveLocked(const char* from, const char* to) {
  if (!lock_.valid() || phase_dir_ != from) {
    return Err(
        Error::Invalid(fmt::format("pod {}: cannot move from {}/ to {}/: it is in {}/{}", uuid_,
                                   from, to, phase_dir_, lock_.valid() ? "" : " and not locked")));
  }
  RETURN_IF_ERROR(Move(pods_dir_, uuid_, from, to));
  phase_dir_ = to;
  path_ = PodPath(pods_dir_, phase_dir_, uuid_);
  return Ok();
}

Status Pod::FinishPrepare() {
  RETURN_IF_ERROR(MoveLocked(kPrepare, kPrepared));
  lock_.Reset();
  return Ok();
}

Status Pod::StartRunning() {
  return MoveLocked(kPrepare, kRun);
}

Status Pod::AbortPrepare() {
  return MoveLocked(kPrepare, kGarbage);
}

Result<int> Pod::ReleaseLockForExec() {
  if (!lock_.valid()) {
    return Err(Error::Invalid(fmt::format("pod {}: the lock is not held", uuid_)));
  }
  int flags = ::fcntl(lock_.get(), F_GETFD);
  if (flags < 0 || ::fcntl(lock_.get(), F_SETFD, flags & ~FD_CLOEXEC) != 0) {
    return Err(Error::FromErrno("fcntl", path_));
  }
  return lock_.Release();
}

// ---- PodStore ----

namespace {

// In a pods directory shared with the api-service's group (os/group_dir.h), a new pod directory
// is shared too (the manifest, logs/ and the statuses are for the api-service to read), but what
// its apps own is not: the snapshots under apps/ (a container's root directory would show the
// group) and the volumes under volumes/. Both are made here, unshared, with the modes
// MakeAppDirs and the supervisor give them; elsewhere nothing is made.
Status UnshareAppData(const std::string& pod_dir) {
  if (!os::SharedGroup(pod_dir)) {
    return Ok();
  }
  RETURN_IF_ERROR(os::MakeUnsharedDir(os::JoinPath(pod_dir, "apps"), 0750));
  // 0700: the pod directory lets the group through, and the apps' volume data is theirs.
  return os::MakeUnsharedDir(os::JoinPath(pod_dir, "volumes"), 0700);
}

}  // namespace

Result<PodStore> PodStore::Open(const std::string& pods_dir) {
  RETURN_IF_ERROR_CTX(os::MkdirAll(pods_dir, 0750), "creating the pods directory");
  for (const char* phase : kPhaseDirs) {
    std::string path = os::JoinPath(pods_dir, phase);
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) {
      return Err(Error::FromErrno("mkdir", path));
    }
  }
  return PodStore(pods_dir);
}

Result<Pod> PodStore::CreatePreparing(const std::string& uuid) const {
  std::string id = uuid.empty() ? NewUuid() : uuid;
  RETURN_IF_ERROR(CheckUuid(id));
  // A chosen uuid must be new in every phase, and looking is only meaningful if no other
  // creator can add it meanwhile: creators with chosen uuids serialize on the pods directory.
  // (A random one cannot collide.)
  os::UniqueFd creators;
  if (!uuid.empty()) {
    creators.Reset(::open(root_.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!creators.valid()) {
      return Err(Error::FromErrno("open", root_));
    }
    if (int err = Flock(creators.get(), LOCK_EX); err != 0) {
      return Err(Error::FromCode(err, "flock", root_));
    }
    auto existing = Refresh(id);
    if (existing) {
      return Err(Error(EEXIST, fmt::format("pod {} already exists", id)));
    }
  }
  std::string embryo = PodPath(root_, kEmbryo, id);
  std::optional<os::UniqueFd> spare = internal::TakeSparePodDir(root_, embryo);
  const bool from_spare = spare.has_value();
  if (!from_spare && ::mkdir(embryo.c_str(), 0750) != 0) {
    if (errno == EEXIST) {
      return Err(Error(EEXIST, fmt::format("pod {} already exists", id)));
    }
    return Err(Error::FromErrno("mkdir", embryo));
  }
  if (Status unshared = UnshareAppData(embryo); !unshared) {
    (void)os::RemoveAll(embryo);
    return Err(std::move(unshared).error());
  }
  // A spare comes locked already (a second lock of ours would conflict with it).
  Result<os::UniqueFd> lock =
      from_spare ? Result<os::UniqueFd>(std::move(*spare)) : OpenPodDir(embryo);
  int err = lock && !from_spare ? TryLockExclusive(lock->get()) : 0;
  Status moved = Ok();
  if (lock && err == 0) {
    moved = Move(root_, id, kEmbryo, kPrepare);
  }
  if (!lock || err != 0 || !moved) {
    (void)os::RemoveAll(embryo);
    if (!lock) {
      return Err(std::move(lock).error());
    }
    if (err != 0) {
      return Err(Error::FromCode(err, "flock", embryo));
    }
    return Err(std::move(moved).error());
  }
  return Pod(root_, id, kPrepare, std::move(*lock));
}

Result<Pod> PodStore::StartPrepared(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  std::string path = PodPath(root_, kPrepared, uuid);
  auto not_prepared = [&] { return Error::NotFound(fmt::format("pod {} is not prepared", uuid)); };
  auto fd = OpenPodDir(path);
  if (!fd) {
    return Err(fd.error().code() == ENOENT ? not_prepared() : std::move(fd).error());
  }
  int err = TryLockExclusive(fd->get());
  if (err == EWOULDBLOCK) {
    return Err(Error(EWOULDBLOCK, fmt::format("pod {} is being started by another process", uuid)));
  }
  if (err != 0) {
    return Err(Error::FromCode(err, "flock", path));
  }
  // Whoever renames first wins; the loser sees ENOENT.
  auto moved = Move(root_, uuid, kPrepared, kRun);
  if (!moved) {
    return Err(moved.error().code() == ENOENT ? not_prepared() : std::move(moved).error());
  }
  return Pod(root_, uuid, kRun, std::move(*fd));
}

Status PodStore::MarkExited(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  std::string path = PodPath(root_, kRun, uuid);
  auto fd = OpenPodDir(path);
  if (!fd) {
    return fd.error().code() == ENOENT ? Ok() : Err(std::move(fd).error());
  }
  // Held through the rename: the supervisor's exclusive lock is the only one that conflicts.
  int err = Flock(fd->get(), LOCK_SH | LOCK_NB);
  if (err == EWOULDBLOCK) {
    return Err(Error(EBUSY, fmt::format("pod {} is running", uuid)));
  }
  if (err != 0) {
    return Err(Error::FromCode(err, "flock", path));
  }
  auto moved = Move(root_, uuid, kRun, kExitedGarbage);
  if (!moved && moved.error().code() != ENOENT) {
    return moved;
  }
  return Ok();
}

Status PodStore::MarkGarbage(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  for (const char* phase : {kEmbryo, kPrepare, kPrepared}) {
    std::string_view held_as =
        phase == std::string_view(kPrepared) ? "being started" : "being prepared";
    ASSIGN_OR_RETURN(std::optional<os::UniqueFd> fd,
                     internal::LockInPhase(root_, phase, uuid, held_as));
    if (!fd) {
      continue;
    }
    // Only from where it was found: if it moved meanwhile, its new phase is not ours to judge.
    auto moved = Move(root_, uuid, phase, kGarbage);
    if (!moved && moved.error().code() != ENOENT) {
      return moved;
    }
    return Ok();
  }
  return Ok();
}

Result<Pod> PodStore::LockForRemoval(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  for (const char* phase : {kExitedGarbage, kGarbage}) {
    ASSIGN_OR_RETURN(std::optional<os::UniqueFd> fd,
                     internal::LockInPhase(root_, phase, uuid, "locked"));
    if (!fd) {
      continue;
    }
    // The previous holder may have removed it before letting go of the lock.
    std::string path = PodPath(root_, phase, uuid);
    struct stat locked {};
    struct stat now {};
    if (::fstat(fd->get(), &locked) != 0 || ::lstat(path.c_str(), &now) != 0 ||
        locked.st_dev != now.st_dev || locked.st_ino != now.st_ino) {
      return Err(Error::NotFound(fmt::format("pod {} was removed", uuid)));
    }
    return Pod(root_, uuid, phase, std::move(*fd));
  }
  return Err(Error::NotFound(fmt::format("pod {} is not marked for removal", uuid)));
}

// A member, not static, although the pod carries its own path: callers remove pods through
// the store that listed them.
Status PodStore::Remove(Pod pod) const {  // NOLINT(readability-convert-member-functions-to-static)
  if (!pod.locked()) {
    return Err(Error::Invalid(fmt::format("pod {}: removing needs its lock", pod.uuid())));
  }
  // rm -rf crosses mount points: a bind-mounted host volume left behind would lose its files.
  ASSIGN_OR_RETURN(std::vector<std::string> mounts, internal::CurrentMountPointsUnder(pod.path()));
  if (!mounts.empty()) {
    return Err(Error(EBUSY, fmt::format("pod {}: {} is still mounted; tear the pod down first",
                                        pod.uuid(), mounts.front())));
  }
  // TeardownPod removed it already, unless the pod never ran; either way nothing may stay.
  RETURN_IF_ERROR_CTX(RemoveVolatileDir(pod.path(), pod.uuid()),
                      fmt::format("removing pod {}", pod.uuid()));
  RETURN_IF_ERROR_CTX(os::RemoveAll(pod.path()), fmt::format("removing pod {}", pod.uuid()));
  return Ok();
}

}  // namespace comet::pod
