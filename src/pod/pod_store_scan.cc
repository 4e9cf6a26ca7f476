// The fd-based read-only view of the pods directory (see pod_store_scan.h).
#include "pod/pod_store_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "os/file.h"
#include "pod/manifest.h"

namespace comet::pod {
namespace {

constexpr size_t kEmbryo = 0;
constexpr size_t kPrepared = 2;
constexpr size_t kExitedGarbage = 4;
constexpr size_t kGarbage = 5;

std::chrono::system_clock::time_point TimeOf(const struct timespec& ts) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

}  // namespace

size_t PhaseIndex(std::string_view phase) {
  for (size_t i = 0; i < kPhaseCount; ++i) {
    if (phase == kPhaseDirs[i]) {
      return i;
    }
  }
  return kPhaseCount;
}

bool LockMatters(std::string_view phase) {
  const size_t index = PhaseIndex(phase);
  return index != kEmbryo && index != kPrepared && index != kPhaseCount;
}

PodState StateInPhase(std::string_view phase, bool locked) {
  switch (PhaseIndex(phase)) {
    case 0:
      return PodState::kEmbryo;
    case 1:
      return locked ? PodState::kPreparing : PodState::kAbortedPrepare;
    case 2:
      return PodState::kPrepared;
    case 3:
      return locked ? PodState::kRunning : PodState::kExited;
    case 4:
      return locked ? PodState::kDeleting : PodState::kExited;
    case 5:
      return locked ? PodState::kDeleting : PodState::kGarbage;
    default:
      return PodState::kUndefined;
  }
}

Result<PodScanner> PodScanner::Open(const std::string& pods_dir) {
  PodScanner scanner;
  scanner.root_ = pods_dir;
  for (size_t i = 0; i < kPhaseCount; ++i) {
    const std::string path = scanner.PhasePath(i);
    int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Err(Error::FromErrno("open", path));
    }
    scanner.phases_[i] = os::UniqueFd(fd);
  }
  return scanner;
}

std::string PodScanner::PhasePath(size_t phase) const {
  return os::JoinPath(root_, kPhaseDirs[phase]);
}

Result<std::vector<std::string>> PodScanner::Names(size_t phase) const {
  // A fresh open description per listing: readdir positions are per open file, and the kept fd
  // is shared by every caller.
  int fd = ::openat(phases_[phase].get(), ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", PhasePath(phase)));
  }
  return PodUuidsInDir(fd, PhasePath(phase));
}

Result<std::vector<std::string>> PodUuidsInDir(int fd, const std::string& path) {
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    Error error = Error::FromErrno("opendir", path);
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

Result<bool> PodScanner::Locked(size_t phase, const std::string& uuid) const {
  int fd =
      ::openat(phases_[phase].get(), uuid.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Err(Error::FromErrno("open", os::JoinPath(PhasePath(phase), uuid)));
  }
  os::UniqueFd dir(fd);
  // A shared lock succeeds unless someone holds the exclusive one; closing the fd drops ours.
  int rc = 0;
  do {
    rc = ::flock(dir.get(), LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    return false;
  }
  if (errno == EWOULDBLOCK) {
    return true;
  }
  return Err(Error::FromErrno("flock", os::JoinPath(PhasePath(phase), uuid)));
}

Result<PodEntry> PodScanner::Entry(size_t phase, const std::string& uuid) const {
  PodEntry entry;
  struct stat st {};
  if (::fstatat(phases_[phase].get(), uuid.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(Error::FromErrno("stat", os::JoinPath(PhasePath(phase), uuid)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Err(Error::FromCode(ENOENT, "stat", os::JoinPath(PhasePath(phase), uuid)));
  }
  entry.uuid = uuid;
  entry.phase_dir = kPhaseDirs[phase];
  entry.path = os::JoinPath(PhasePath(phase), uuid);
  entry.phase_since = TimeOf(st.st_ctim);
  bool locked = false;
  if (LockMatters(entry.phase_dir)) {
    ASSIGN_OR_RETURN(locked, Locked(phase, uuid));
  }
  entry.state = StateInPhase(entry.phase_dir, locked);
  entry.gc_marked = phase == kExitedGarbage || phase == kGarbage;
  return entry;
}

Result<PodEntry> PodScanner::Locate(const std::string& uuid, size_t from) const {
  if (!IsValidUuid(uuid)) {
    return Err(Error::Invalid(fmt::format("\"{}\" is not a pod uuid", uuid)));
  }
  for (size_t phase = from; phase < kPhaseCount; ++phase) {
    auto entry = Entry(phase, uuid);
    if (entry || entry.error().code() != ENOENT) {
      return entry;
    }
  }
  return Err(Error::NotFound(fmt::format("no pod {}", uuid)));
}

}  // namespace comet::pod
