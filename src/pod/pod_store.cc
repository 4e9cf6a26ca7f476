// The pods directory: phase directories, flock(2) on pod directories, rename(2) transitions.
// See pod_store.h and docs/pod-lifecycle.md. Safe across processes.
#include "pod/pod_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "pod/manifest.h"
#include "pod/mount_table.h"

namespace comet::pod {
namespace {

using std::chrono::milliseconds;

constexpr const char* kEmbryo = "embryo";
constexpr const char* kPrepare = "prepare";
constexpr const char* kPrepared = "prepared";
constexpr const char* kRun = "run";
constexpr const char* kExitedGarbage = "exited-garbage";
constexpr const char* kGarbage = "garbage";

// How long a non-blocking exclusive lock is retried: someone's listing (a momentary shared lock
// taken to tell running from exited) must not make a transition fail.
constexpr milliseconds kLockRetryFor{200};

std::string PodPath(const std::string& root, std::string_view phase, std::string_view uuid) {
  return os::JoinPath(os::JoinPath(root, phase), uuid);
}

Status CheckUuid(std::string_view uuid) {
  if (!IsValidUuid(uuid)) {
    return Err(Error::Invalid(fmt::format("\"{}\" is not a pod uuid", uuid)));
  }
  return Ok();
}

// The pod directory itself, for locking: the lock follows the inode through renames.
Result<os::UniqueFd> OpenPodDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  return os::UniqueFd(fd);
}

// flock(2) retried on EINTR; 0 or the errno.
int Flock(int fd, int op) {
  while (::flock(fd, op) != 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

// LOCK_EX | LOCK_NB, retried for a moment; 0 or the errno (EWOULDBLOCK: really held).
int TryLockExclusive(int fd) {
  auto deadline = std::chrono::steady_clock::now() + kLockRetryFor;
  while (true) {
    int err = Flock(fd, LOCK_EX | LOCK_NB);
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      return err;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// rename(2) that never replaces: a directory may be renamed over an empty one, which must not
// happen to a pod. Falls back to rename(2) where RENAME_NOREPLACE is not supported.
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno == EINVAL || errno == ENOSYS) {
    if (::rename(from.c_str(), to.c_str()) == 0) {
      return 0;
    }
  }
  return errno;
}

Status Move(const std::string& root, std::string_view uuid, std::string_view from,
            std::string_view to) {
  std::string src = PodPath(root, from, uuid);
  std::string dst = PodPath(root, to, uuid);
  int err = RenameNoReplace(src, dst);
  if (err != 0) {
    return Err(Error::FromCode(err, "rename", fmt::format("{} to {}", src, dst)));
  }
  return Ok();
}

bool IsGcMarked(std::string_view phase) {
  return phase == kExitedGarbage || phase == kGarbage;
}

// rkt's table (Documentation/devel/pod-lifecycle.md): the phase directory plus, where a process
// is bound to the phase, whether the pod directory is locked.
PodState StateOf(std::string_view phase, bool locked) {
  if (phase == kEmbryo) {
    return PodState::kEmbryo;
  }
  if (phase == kPrepare) {
    return locked ? PodState::kPreparing : PodState::kAbortedPrepare;
  }
  if (phase == kPrepared) {
    return PodState::kPrepared;
  }
  if (phase == kRun) {
    return locked ? PodState::kRunning : PodState::kExited;
  }
  if (phase == kExitedGarbage) {
    return locked ? PodState::kDeleting : PodState::kExited;
  }
  if (phase == kGarbage) {
    return locked ? PodState::kDeleting : PodState::kGarbage;
  }
  return PodState::kUndefined;
}

// The entry of the pod at <root>/<phase>/<uuid>; ENOENT when it is not there (anymore).
Result<PodEntry> ReadEntry(const std::string& root, std::string_view phase, std::string_view uuid) {
  PodEntry entry;
  entry.uuid = std::string(uuid);
  entry.phase_dir = std::string(phase);
  entry.path = PodPath(root, phase, uuid);
  ASSIGN_OR_RETURN(os::UniqueFd fd, OpenPodDir(entry.path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Error::FromErrno("stat", entry.path));
  }
  entry.phase_since = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_ctim.tv_sec) + std::chrono::nanoseconds(st.st_ctim.tv_nsec)));
  bool locked = false;
  if (phase != kEmbryo && phase != kPrepared) {
    // A shared lock succeeds unless someone holds the exclusive one; closing fd drops ours.
    int err = Flock(fd.get(), LOCK_SH | LOCK_NB);
    if (err == EWOULDBLOCK) {
      locked = true;
    } else if (err != 0) {
      return Err(Error::FromCode(err, "flock", entry.path));
    }
  }
  entry.state = StateOf(phase, locked);
  entry.gc_marked = IsGcMarked(phase);
  return entry;
}

// The names in <root>/<phase> that are pod uuids.
Result<std::vector<std::string>> ListPhase(const std::string& root, std::string_view phase) {
  std::string dir_path = os::JoinPath(root, phase);
  int fd = ::open(dir_path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", dir_path));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    Error error = Error::FromErrno("opendir", dir_path);
    ::close(fd);
    return Err(std::move(error));
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    if (IsValidUuid(entry->d_name)) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(dir);
  return names;
}

}  // namespace

std::string_view PodStateName(PodState state) {
  switch (state) {
    case PodState::kUndefined:
      return "undefined";
    case PodState::kEmbryo:
      return "embryo";
    case PodState::kPreparing:
      return "preparing";
    case PodState::kPrepared:
      return "prepared";
    case PodState::kRunning:
      return "running";
    case PodState::kAbortedPrepare:
      return "aborted prepare";
    case PodState::kExited:
      return "exited";
    case PodState::kDeleting:
      return "deleting";
    case PodState::kGarbage:
      return "garbage";
  }
  return "undefined";
}

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
  if (::mkdir(embryo.c_str(), 0750) != 0) {
    if (errno == EEXIST) {
      return Err(Error(EEXIST, fmt::format("pod {} already exists", id)));
    }
    return Err(Error::FromErrno("mkdir", embryo));
  }
  auto lock = OpenPodDir(embryo);
  int err = lock ? TryLockExclusive(lock->get()) : 0;
  Status moved = Ok();
  if (lock && err == 0) {
    moved = Move(root_, id, kEmbryo, kPrepare);
  }
  if (!lock || err != 0 || !moved) {
    ::rmdir(embryo.c_str());
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

Result<std::vector<PodEntry>> PodStore::List() const {
  std::map<std::string, PodEntry> found;
  for (const char* phase : kPhaseDirs) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListPhase(root_, phase));
    for (const std::string& uuid : names) {
      auto entry = ReadEntry(root_, phase, uuid);
      if (!entry && entry.error().code() == ENOENT) {
        // Moved on since readdir: look where it went (phases are walked in lifecycle order, so
        // it is usually listed again later anyway).
        entry = Refresh(uuid);
        if (!entry && entry.error().code() == ENOENT) {
          continue;  // removed meanwhile
        }
      }
      if (!entry) {
        return Err(std::move(entry).error());
      }
      found[uuid] = std::move(*entry);
    }
  }
  std::vector<PodEntry> out;
  out.reserve(found.size());
  for (auto& [uuid, entry] : found) {
    out.push_back(std::move(entry));
  }
  return out;
}

Result<PodEntry> PodStore::Find(std::string_view uuid_or_prefix) const {
  std::string prefix(uuid_or_prefix);
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (IsValidUuid(prefix)) {
    return Refresh(prefix);
  }
  bool hexish = std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  if (prefix.size() < 4 || prefix.size() > 36 || !hexish) {
    return Err(Error::Invalid(fmt::format(
        "\"{}\" is not a pod uuid or a uuid prefix of at least 4 characters", uuid_or_prefix)));
  }
  ASSIGN_OR_RETURN(std::vector<PodEntry> all, List());
  std::vector<PodEntry> matches;
  for (PodEntry& entry : all) {
    if (StartsWith(entry.uuid, prefix)) {
      matches.push_back(std::move(entry));
    }
  }
  if (matches.empty()) {
    return Err(Error::NotFound(fmt::format("no pod matches \"{}\"", prefix)));
  }
  if (matches.size() > 1) {
    return Err(Error::Invalid(
        fmt::format("uuid prefix \"{}\" is ambiguous: {} pods match", prefix, matches.size())));
  }
  return std::move(matches.front());
}

Result<PodEntry> PodStore::Refresh(const std::string& uuid) const {
  RETURN_IF_ERROR(CheckUuid(uuid));
  // Lifecycle order: a pod that moves while we look can only move to a later directory.
  for (const char* phase : kPhaseDirs) {
    auto entry = ReadEntry(root_, phase, uuid);
    if (entry || entry.error().code() != ENOENT) {
      return entry;
    }
  }
  return Err(Error::NotFound(fmt::format("no pod {}", uuid)));
}

Result<bool> PodStore::WaitExited(const std::string& uuid,
                                  std::optional<std::chrono::milliseconds> timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(milliseconds(0));
  milliseconds delay{5};
  bool seen = false;
  while (true) {
    auto entry = Refresh(uuid);
    if (!entry) {
      if (seen && entry.error().code() == ENOENT) {
        return true;  // removed: it certainly exited
      }
      return Err(std::move(entry).error());
    }
    seen = true;
    switch (entry->state) {
      case PodState::kExited:
      case PodState::kAbortedPrepare:
      case PodState::kGarbage:
      case PodState::kDeleting:
      case PodState::kUndefined:
        return true;
      case PodState::kEmbryo:
      case PodState::kPreparing:
      case PodState::kPrepared:
      case PodState::kRunning:
        break;
    }
    bool locked = entry->state == PodState::kPreparing || entry->state == PodState::kRunning;
    if (!timeout && locked) {
      // A blocking shared lock returns the moment the holder exits (rkt's wake-up).
      auto fd = OpenPodDir(entry->path);
      if (fd) {
        int err = Flock(fd->get(), LOCK_SH);
        if (err != 0) {
          return Err(Error::FromCode(err, "flock", entry->path));
        }
      }
      continue;
    }
    // flock(2) has no timeout: poll. A prepared pod waits for someone to run it.
    auto now = std::chrono::steady_clock::now();
    if (timeout && now >= deadline) {
      return false;
    }
    milliseconds nap = entry->state == PodState::kPrepared ? milliseconds(100) : delay;
    if (timeout) {
      nap =
          std::min(nap, std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1));
    }
    std::this_thread::sleep_for(nap);
    delay = std::min(delay * 2, milliseconds(50));
  }
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
    std::string path = PodPath(root_, phase, uuid);
    auto fd = OpenPodDir(path);
    if (!fd) {
      if (fd.error().code() == ENOENT) {
        continue;
      }
      return Err(std::move(fd).error());
    }
    int err = TryLockExclusive(fd->get());
    if (err == EWOULDBLOCK) {
      return Err(
          Error(EBUSY, fmt::format("pod {} is being {} by another process", uuid,
                                   phase == std::string_view(kPrepared) ? "started" : "prepared")));
    }
    if (err != 0) {
      return Err(Error::FromCode(err, "flock", path));
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
    std::string path = PodPath(root_, phase, uuid);
    auto fd = OpenPodDir(path);
    if (!fd) {
      if (fd.error().code() == ENOENT) {
        continue;
      }
      return Err(std::move(fd).error());
    }
    int err = TryLockExclusive(fd->get());
    if (err == EWOULDBLOCK) {
      return Err(Error(EBUSY, fmt::format("pod {} is locked by another process", uuid)));
    }
    if (err != 0) {
      return Err(Error::FromCode(err, "flock", path));
    }
    // The previous holder may have removed it before letting go of the lock.
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
  RETURN_IF_ERROR_CTX(os::RemoveAll(pod.path()), fmt::format("removing pod {}", pod.uuid()));
  return Ok();
}

}  // namespace comet::pod
