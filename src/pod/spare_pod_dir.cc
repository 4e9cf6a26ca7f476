// Spare pod directories (spare_pod_dir.h): kept by RecyclePodDir, taken by
// PodStore::CreatePreparing through TakeSparePodDir.
#include "pod/spare_pod_dir.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "os/group_dir.h"
#include "pod/phase_dir.h"

namespace comet::pod {
namespace {

// What a spare may hold: the empty directories a new pod gets first (pod_store.cc, the
// supervisor), so that they need not be made again.
bool IsKeptEntry(std::string_view name) {
  return name == "apps" || name == "volumes";
}

bool IsOwnEmptyDirectory(const std::string& path) {
  if (!os::IsOwnDirectory(path)) {
    return false;
  }
  auto names = os::ListDirectory(path);
  return names && names->empty();
}

// This process's umask, from /proc/self/status (umask(2) cannot read it without setting it, which
// would race with other threads making files).
std::optional<mode_t> CurrentUmask() {
  auto status = os::ReadFileLimited("/proc/self/status", 1U << 16U);
  if (!status) {
    return std::nullopt;
  }
  constexpr std::string_view kField = "\nUmask:\t";
  size_t at = status->find(kField);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  unsigned int mask = 0;
  if (std::sscanf(status->c_str() + at + kField.size(), "%o", &mask) != 1 || mask > 0777) {
    return std::nullopt;
  }
  return static_cast<mode_t>(mask);
}

// What mkdir(<embryo>/<uuid>, 0750) makes now: its mode bits (setgid included) and group.
struct FreshDir {
  mode_t mode = 0;
  gid_t gid = 0;
};

std::optional<FreshDir> FreshPodDir(const std::string& embryo_dir) {
  struct stat parent {};
  std::optional<mode_t> umask = CurrentUmask();
  if (!umask || ::stat(embryo_dir.c_str(), &parent) != 0) {
    return std::nullopt;
  }
  FreshDir fresh;
  fresh.mode = 0750 & ~*umask;
  fresh.gid = ::getegid();
  if ((parent.st_mode & S_ISGID) != 0) {  // the group and the setgid bit pass down
    fresh.mode |= S_ISGID;
    fresh.gid = parent.st_gid;
  }
  return fresh;
}

// What a spare is fit for (spare_pod_dir.h).
enum class Fitness { kFit, kWrongMode, kUnfit, kTooRecent };

// `locked` is the spare's fd (its lock held); the path must still name it (another stage0 may
// have taken that directory, and a later one put another there under the same name).
Fitness FitnessOf(const std::string& spare, int locked, const FreshDir& fresh) {
  struct stat st {};
  struct stat held {};
  if (::lstat(spare.c_str(), &st) != 0 || ::fstat(locked, &held) != 0 || st.st_dev != held.st_dev ||
      st.st_ino != held.st_ino) {
    return Fitness::kUnfit;
  }
  if (!os::IsOwnDirectory(st) || st.st_gid != fresh.gid) {
    return Fitness::kUnfit;
  }
  auto names = os::ListDirectory(spare);
  if (!names || !std::ranges::all_of(*names, [&](const std::string& name) {
        return IsKeptEntry(name) && IsOwnEmptyDirectory(os::JoinPath(spare, name));
      })) {
    return Fitness::kUnfit;
  }
  // The rename into the pool set its ctime: a pod that just went may still have waiters on its
  // lock (`status --wait`, `stop`) that have not run yet since it was released; a new pod
  // locking the directory first would keep them waiting on the wrong pod.
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto age = std::chrono::seconds(now.tv_sec - st.st_ctim.tv_sec) +
                   std::chrono::nanoseconds(now.tv_nsec - st.st_ctim.tv_nsec);
  if (age < kSpareQuarantine) {
    return Fitness::kTooRecent;
  }
  return (st.st_mode & 07777) == fresh.mode ? Fitness::kFit : Fitness::kWrongMode;
}

// Removes everything in `pod_dir` but the kept entries that are empty directories.
Status EmptyPodDir(const std::string& pod_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, os::ListDirectory(pod_dir));
  for (const std::string& name : names) {
    const std::string path = os::JoinPath(pod_dir, name);
    if (IsKeptEntry(name) && IsOwnEmptyDirectory(path)) {
      continue;
    }
    RETURN_IF_ERROR(os::RemoveAll(path));
  }
  return Ok();
}

// Moves the emptied `pod_dir` into the pool; an error leaves it where it was.
Status KeepAsSpare(const std::string& pods_dir, const std::string& pod_dir,
                   const std::string& uuid) {
  const std::string spares = SparePodDirsPath(pods_dir);
  RETURN_IF_ERROR(os::OpenSparePool(spares, kMaxSparePodDirs));
  RETURN_IF_ERROR(EmptyPodDir(pod_dir));
  const std::string target = os::JoinPath(spares, uuid);
  if (int err = internal::RenameNoReplace(pod_dir, target); err != 0) {
    return Err(Error::FromCode(err, "rename", fmt::format("{} to {}", pod_dir, target)));
  }
  return Ok();
}

}  // namespace

std::string SparePodDirsPath(const std::string& pods_dir) {
  std::string_view dir = pods_dir;
  while (dir.size() > 1 && dir.back() == '/') {
    dir.remove_suffix(1);
  }
  const size_t slash = dir.rfind('/');
  return os::JoinPath(slash == std::string_view::npos ? "." : dir.substr(0, slash), "pod-spares");
}

Status RecyclePodDir(const std::string& pods_dir, const std::string& pod_dir,
                     const std::string& uuid) {
  if (auto kept = KeepAsSpare(pods_dir, pod_dir, uuid); !kept) {
    log::Debug("pod directory {} not kept as a spare: {}", pod_dir, kept.error().ToString());
    return os::RemoveAll(pod_dir);
  }
  return Ok();
}

namespace internal {

std::optional<os::UniqueFd> TakeSparePodDir(const std::string& pods_dir,
                                            const std::string& embryo) {
  const std::string spares = SparePodDirsPath(pods_dir);
  if (!os::IsOwnDirectory(spares)) {
    return std::nullopt;
  }
  auto names = os::ListDirectory(spares);
  if (!names || names->empty()) {
    return std::nullopt;
  }
  const size_t slash = embryo.rfind('/');
  std::optional<FreshDir> fresh =
      FreshPodDir(slash == std::string::npos ? "." : embryo.substr(0, slash));
  if (!fresh) {
    return std::nullopt;
  }
  for (const std::string& name : *names) {
    const std::string spare = os::JoinPath(spares, name);
    auto lock = OpenPodDir(spare);
    if (!lock && (lock.error().code() == ENOTDIR || lock.error().code() == ELOOP)) {
      (void)os::RemoveAll(spare);  // not a directory: nothing a pod could use
      continue;
    }
    // The pod that left it may still hold its lock for the moment before it exits: that one is
    // for a later pod.
    if (!lock || Flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
      continue;
    }
    // Checked where it lies, so that a bad one never enters the pods tree: dropped, or left
    // alone when even that fails.
    const Fitness fitness = FitnessOf(spare, lock->get(), *fresh);
    if (fitness == Fitness::kTooRecent) {
      continue;
    }
    if (fitness == Fitness::kUnfit ||
        (fitness == Fitness::kWrongMode && ::fchmod(lock->get(), fresh->mode) != 0)) {
      log::Debug("spare pod directory {} is not what a new pod gets: removing it", spare);
      if (auto removed = os::RemoveAll(spare); !removed) {
        log::Warning("{}", removed.error().ToString());
      }
      continue;
    }
    int err = RenameNoReplace(spare, embryo);
    if (err == 0) {
      return std::move(*lock);
    }
    if (err != ENOENT) {  // ENOENT: another pod took it meanwhile
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace internal

}  // namespace comet::pod
