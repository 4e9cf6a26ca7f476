// The read side of the pods directory: listing pods, finding one by uuid prefix, and waiting for
// one to exit (see pod_store.h). Takes only momentary shared locks; safe across processes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "pod/manifest.h"
#include "pod/phase_dir.h"
#include "pod/pod_store.h"
#include "pod/pod_store_scan.h"

namespace comet::pod {
namespace {

using internal::kEmbryo;
using internal::kExitedGarbage;
using internal::kGarbage;
using internal::kPrepare;
using internal::kPrepared;
using internal::kRun;
using std::chrono::milliseconds;

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
  entry.path = internal::PodPath(root, phase, uuid);
  ASSIGN_OR_RETURN(os::UniqueFd fd, internal::OpenPodDir(entry.path));
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
    int err = internal::Flock(fd.get(), LOCK_SH | LOCK_NB);
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
  return PodUuidsInDir(fd, dir_path);
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
  RETURN_IF_ERROR(internal::CheckUuid(uuid));
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
      auto fd = internal::OpenPodDir(entry->path);
      if (fd) {
        int err = internal::Flock(fd->get(), LOCK_SH);
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

}  // namespace comet::pod
