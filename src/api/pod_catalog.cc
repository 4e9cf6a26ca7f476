// PodCatalog over a pods directory (see pod_catalog.h). The index maps each pod's uuid to its
// entry (phase directory, state, phase_since), its cached view and its inotify watches. A call
// drains the inotify queue (the pods it names are located again, and those whose files changed
// are read again), probes the locks that matter, and answers from a snapshot of the views that
// is rebuilt only when one of them changed.
#include "api/pod_catalog.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "api/pod_filter.h"
#include "api/pod_view.h"
#include "api/pod_watch.h"
#include "base/strings.h"
#include "os/file.h"
#include "pod/pod_store_scan.h"
#include "pod/volatile_dir.h"

namespace comet::api {
namespace {

// Pods reported moved or changed but not located again yet (only InspectPod calls meanwhile);
// past this many, the next ListPods scans every phase directory instead.
constexpr size_t kMaxPendingMoves = 65536;

struct CachedPod {
  PodView view;
  v1alpha::Pod basic;  // view.pod without detail, built once
  // view.pod and basic as ListPodsResponse.pods fields (ListWire).
  std::string wire_detail;
  std::string wire_basic;
  bool racy = false;  // read so soon after a change that its stamp may miss the next one
};

// `pod` as field 1 (ListPodsResponse.pods) on the wire: tag (field 1, length-delimited), the
// length as a varint, the message.
std::string EncodePodsField(const v1alpha::Pod& pod) {
  std::string out;
  size_t size = pod.ByteSizeLong();
  out.reserve(size + 6);
  out.push_back('\x0a');
  for (size_t left = size; true; left >>= 7) {
    if (left < 0x80) {
      out.push_back(static_cast<char>(left));
      break;
    }
    out.push_back(static_cast<char>((left & 0x7f) | 0x80));
  }
  pod.AppendToString(&out);
  return out;
}

// The pods in uuid order, as one call answers from them. Immutable once built, but for the
// whole wire form of an unfiltered answer, made once by the first call that needs it.
class Snapshot {
 public:
  std::vector<std::shared_ptr<const CachedPod>> pods;

  const std::string& Whole(bool detail) const {
    const size_t i = detail ? 1 : 0;
    std::call_once(built_[i], [&] {
      size_t size = 0;
      for (const auto& cached : pods) {
        size += (detail ? cached->wire_detail : cached->wire_basic).size();
      }
      whole_[i].reserve(size);
      for (const auto& cached : pods) {
        whole_[i].append(detail ? cached->wire_detail : cached->wire_basic);
      }
    });
    return whole_[i];
  }

 private:
  mutable std::once_flag built_[2];
  mutable std::string whole_[2];
};

struct Tracked {
  pod::PodEntry entry;
  std::shared_ptr<const CachedPod> cached;  // null: to be read
  std::vector<int> wds;                     // its inotify watches
  bool watched = false;                     // the watches cover it: no stat while no event names it
};

// Pods whose view holds nothing read from files: only their phase and lock matter.
bool IsBasicOnly(pod::PodState state) {
  return state == pod::PodState::kEmbryo || state == pod::PodState::kPreparing ||
         state == pod::PodState::kAbortedPrepare;
}

// The subdirectories of `dir` (the apps' directories under <pod>/state/apps).
std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> out;
  int fd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return out;
  }
  DIR* stream = ::fdopendir(fd);
  if (stream == nullptr) {
    ::close(fd);
    return out;
  }
  while (struct dirent* entry = ::readdir(stream)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != ".." && (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN)) {
      out.push_back(os::JoinPath(dir, name));
    }
  }
  ::closedir(stream);
  return out;
}

class DiskPodCatalog final : public PodCatalog {
 public:
  DiskPodCatalog(std::string pods_dir, PodCatalogOptions options)
      : pods_dir_(std::move(pods_dir)), options_(options) {}

  Status ListInto(const PodFilters& filters, bool detail, PodList* out) override {
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> pods, Candidates(filters));
    // Outside the mutex: the snapshot is immutable, and copying is most of what a warm call
    // costs. Filters see the full view (apps, image ids) whether or not the answer carries it.
    out->Reserve(out->size() + static_cast<int>(pods->pods.size()));
    for (const auto& cached : pods->pods) {
      if (PodMatchesAny(cached->view.pod, filters)) {
        *out->Add() = detail ? cached->view.pod : cached->basic;
      }
    }
    return Ok();
  }

  Result<WirePods> ListWire(const PodFilters& filters, bool detail) override {
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> pods, Candidates(filters));
    WirePods wire;
    if (filters.empty()) {
      // The common call (the kubelet's relist, a dashboard): one piece, encoded once per change.
      const std::string& whole = pods->Whole(detail);
      wire.pieces.emplace_back(whole);
      wire.bytes = whole.size();
      wire.keep = std::move(pods);
      return wire;
    }
    wire.pieces.reserve(pods->pods.size());
    for (const auto& cached : pods->pods) {
      if (PodMatchesAny(cached->view.pod, filters)) {
        const std::string& piece = detail ? cached->wire_detail : cached->wire_basic;
        wire.pieces.emplace_back(piece);
        wire.bytes += piece.size();
      }
    }
    wire.keep = std::move(pods);  // the snapshot keeps every CachedPod, and so the pieces, alive
    return wire;
  }

  Result<v1alpha::Pod> Inspect(std::string_view id) override {
    ASSIGN_OR_RETURN(std::shared_ptr<const CachedPod> cached, One(id));
    return cached->view.pod;
  }

  Result<std::string> PodDir(std::string_view id) override {
    ASSIGN_OR_RETURN(std::shared_ptr<const CachedPod> cached, One(id));
    std::lock_guard lock(mu_);
    auto it = pods_.find(cached->view.pod.id());
    if (it == pods_.end()) {
      return Err(Error::NotFound(fmt::format("no pod {}", cached->view.pod.id())));
    }
    return it->second.entry.path;
  }

  PodCatalogStats stats() const override {
    std::lock_guard lock(mu_);
    PodCatalogStats stats = stats_;
    stats.cached_pods = 0;
    for (const auto& [uuid, tracked] : pods_) {
      stats.cached_pods += tracked.cached ? 1 : 0;
    }
    stats.pod_watches = watcher_ ? watcher_->pod_watches() : 0;
    stats.inotify = watcher_ != nullptr;
    return stats;
  }

 private:
  // The uuids of the only pods that can match when every filter lists ids (then no listing of
  // the phase directories is needed), else nullopt. The filters are valid.
  static std::optional<std::set<std::string>> NamedPods(const PodFilters& filters) {
    if (filters.empty()) {
      return std::nullopt;
    }
    std::set<std::string> ids;
    for (const v1alpha::PodFilter& filter : filters) {
      if (filter.ids_size() == 0) {
        return std::nullopt;
      }
      for (const std::string& id : filter.ids()) {
        ids.insert(NormalizeUuid(id).value_or(id));
      }
    }
    return ids;
  }

  // The pods that may match `filters` (validated here), current: the named ones when every
  // filter names ids, else all.
  Result<std::shared_ptr<const Snapshot>> Candidates(const PodFilters& filters) {
    RETURN_IF_ERROR(ValidatePodFilters(filters));
    if (std::optional<std::set<std::string>> ids = NamedPods(filters)) {
      return Named(*ids);
    }
    return All();
  }

  // Every pod, current.
  Result<std::shared_ptr<const Snapshot>> All() {
    std::lock_guard lock(mu_);
    if (!Ready()) {
      return std::make_shared<const Snapshot>();  // no pod was ever made here
    }
    Drain();
    if (!scanner_ && !Ready()) {  // the pods directory was removed: as before it was made
      return std::make_shared<const Snapshot>();
    }
    if (!watcher_ || !scanned_) {
      RETURN_IF_ERROR(FullScan());
    }
    RETURN_IF_ERROR(RelocateMoved());
    for (auto it = pods_.begin(); it != pods_.end();) {
      auto next = std::next(it);
      RETURN_IF_ERROR(Check(it));
      it = next;
    }
    if (!snapshot_) {
      auto fresh = std::make_shared<Snapshot>();
      fresh->pods.reserve(pods_.size());
      for (const auto& [uuid, tracked] : pods_) {
        fresh->pods.push_back(tracked.cached);
      }
      snapshot_ = std::move(fresh);
    }
    return snapshot_;
  }

  // The pods `ids` that exist, current, sorted by uuid.
  Result<std::shared_ptr<const Snapshot>> Named(const std::set<std::string>& ids) {
    auto out = std::make_shared<Snapshot>();
    for (const std::string& id : ids) {
      auto cached = One(id);
      if (!cached && cached.error().code() == ENOENT) {
        continue;
      }
      if (!cached) {
        return Err(std::move(cached).error());
      }
      out->pods.push_back(std::move(*cached));
    }
    return std::shared_ptr<const Snapshot>(std::move(out));
  }

  // One pod by full uuid, current: only that pod is looked at (and the inotify queue drained).
  Result<std::shared_ptr<const CachedPod>> One(std::string_view id) {
    std::optional<std::string> uuid = NormalizeUuid(id);
    if (!uuid) {
      return Err(Error::Invalid(fmt::format("\"{}\" is not a pod uuid", Printable(id, 64))));
    }
    std::lock_guard lock(mu_);
    if (!Ready()) {
      return Err(Error::NotFound(fmt::format("no pod {}", *uuid)));
    }
    Drain();
    if (!scanner_ && !Ready()) {  // the pods directory was removed: as before it was made
      return Err(Error::NotFound(fmt::format("no pod {}", *uuid)));
    }
    // Without a complete index (no inotify, or no full scan yet) the pod is looked for on disk.
    if (!watcher_ || !scanned_ || moved_.erase(*uuid) > 0) {
      if (Status located = Relocate(*uuid, 0); !located) {
        scanned_ = false;  // its move is forgotten: the next list scans everything
        return Err(located.error());
      }
    }
    auto it = pods_.find(*uuid);
    if (it != pods_.end()) {
      RETURN_IF_ERROR(Check(it));
      it = pods_.find(*uuid);
    }
    if (it == pods_.end()) {
      return Err(Error::NotFound(fmt::format("no pod {}", *uuid)));
    }
    return it->second.cached;
  }

  // The pods directory once `comet` made it: a reader must create nothing, so until all the
  // phase directories exist there are no pods (a service started before the first `comet`).
  bool Ready() {
    if (scanner_) {
      return true;
    }
    auto opened = pod::PodScanner::Open(pods_dir_);
    if (!opened) {
      return false;
    }
    scanner_.emplace(std::move(*opened));
    if (options_.use_inotify) {
      watcher_ = PodWatcher::Open(*scanner_, options_.max_pod_watches);
    }
    return true;
  }

  // Takes in what inotify reported: pods to locate again, views to read again.
  void Drain() {
    if (!watcher_) {
      return;
    }
    PodChanges changes;
    watcher_->Drain(changes);
    if (changes.phases_lost) {
      // The pods directory was removed (and maybe made again): start over, as at startup.
      pods_.clear();
      snapshot_.reset();
      moved_.clear();
      scanned_ = false;
      watcher_.reset();
      scanner_.reset();
      return;
    }
    if (changes.overflow) {
      // Events were lost: nothing cached is known to be current.
      scanned_ = false;
      for (auto& [uuid, tracked] : pods_) {
        Forget(tracked);
      }
    }
    moved_.merge(changes.moved);
    for (const std::string& uuid : changes.changed) {
      // A change in the pod directory also changes its ctime (phase_since): locate it again.
      moved_.insert(uuid);
      if (auto it = pods_.find(uuid); it != pods_.end()) {
        Forget(it->second);
      }
    }
    if (moved_.size() > kMaxPendingMoves) {
      // Only InspectPod calls for a long time: a full scan is cheaper than the list.
      moved_.clear();
      scanned_ = false;
    }
  }

  void Forget(Tracked& tracked) {
    if (tracked.cached) {
      tracked.cached.reset();
      snapshot_.reset();
    }
  }

  // Lists every phase directory: pods no longer there are dropped, the others located again.
  Status FullScan() {
    ++stats_.full_scans;
    std::map<std::string, size_t> found;
    for (size_t phase = 0; phase < pod::kPhaseCount; ++phase) {
      ASSIGN_OR_RETURN(std::vector<std::string> names, scanner_->Names(phase));
      for (std::string& uuid : names) {
        found[std::move(uuid)] = phase;  // listed twice (moved meanwhile): the later phase
      }
    }
    for (auto it = pods_.begin(); it != pods_.end();) {
      it = found.contains(it->first) ? std::next(it) : Erase(it);
    }
    for (const auto& [uuid, phase] : found) {
      RETURN_IF_ERROR(Relocate(uuid, phase));
      moved_.erase(uuid);
    }
    scanned_ = watcher_ != nullptr;
    return Ok();
  }

  Status RelocateMoved() {
    std::set<std::string> moved = std::move(moved_);
    moved_.clear();
    for (const std::string& uuid : moved) {
      if (Status located = Relocate(uuid, 0); !located) {
        scanned_ = false;  // the rest of the moves are forgotten: the next list scans everything
        return located;
      }
    }
    return Ok();
  }

  // Finds pod `uuid` again, from phase `from` on (it may have moved since): updates its entry,
  // adds it, or drops it when it is gone. A changed phase, state or phase_since makes its view
  // be read again.
  Status Relocate(const std::string& uuid, size_t from) {
    auto it = pods_.find(uuid);
    if (it != pods_.end()) {
      from = std::max(from, pod::PhaseIndex(it->second.entry.phase_dir));
    }
    auto entry = scanner_->Locate(uuid, from);
    if (!entry && entry.error().code() == ENOENT && from > 0) {
      entry = scanner_->Locate(uuid, 0);  // not where it was: removed, or a stale hint
    }
    if (!entry && entry.error().code() == ENOENT) {
      if (it != pods_.end()) {
        Erase(it);
      }
      return Ok();
    }
    if (!entry) {
      return Err(std::move(entry).error());
    }
    if (it == pods_.end()) {
      it = pods_.emplace(uuid, Tracked{}).first;
      snapshot_.reset();
    }
    Tracked& tracked = it->second;
    if (tracked.entry.phase_dir != entry->phase_dir || tracked.entry.state != entry->state ||
        tracked.entry.phase_since != entry->phase_since) {
      Forget(tracked);
    }
    tracked.entry = std::move(*entry);
    return Ok();
  }

  std::map<std::string, Tracked>::iterator Erase(std::map<std::string, Tracked>::iterator it) {
    if (watcher_) {
      watcher_->UnwatchPod(it->second.wds);
    }
    snapshot_.reset();
    return pods_.erase(it);
  }

  // Makes the pod at `it` current: probes its lock where that matters, stats it when it has no
  // watch, and reads it when it changed. May erase it (gone meanwhile).
  Status Check(std::map<std::string, Tracked>::iterator it) {
    Tracked& tracked = it->second;
    if (tracked.cached && pod::LockMatters(tracked.entry.phase_dir)) {
      ++stats_.lock_probes;
      const size_t phase = pod::PhaseIndex(tracked.entry.phase_dir);
      auto locked = scanner_->Locked(phase, it->first);
      if (!locked && locked.error().code() == ENOENT) {
        // Moved (or removed) since inotify last said: located now, read below if still here.
        const std::string uuid = it->first;
        RETURN_IF_ERROR(Relocate(uuid, phase));
        auto again = pods_.find(uuid);
        return again == pods_.end() ? Ok() : Check(again);
      }
      if (!locked) {
        return Err(std::move(locked).error());
      }
      if (pod::StateInPhase(tracked.entry.phase_dir, *locked) != tracked.entry.state) {
        Forget(tracked);
      }
    }
    if (tracked.cached && !tracked.watched) {
      ++stats_.stamp_checks;
      const PodView& view = tracked.cached->view;
      if (tracked.cached->racy || StampPod(tracked.entry, view.status_files) != view.stamp) {
        Forget(tracked);
      }
    }
    if (tracked.cached) {
      return Ok();
    }
    return Read(it);
  }

  // (Re)reads the pod at `it`: its watches first, so that whatever changes after is reported;
  // then its entry again (the lock, phase_since) and its files.
  Status Read(std::map<std::string, Tracked>::iterator it) {
    Tracked& tracked = it->second;
    ++stats_.pod_reads;
    tracked.watched = false;
    if (watcher_) {
      tracked.watched = Watch(it->first, tracked);
    }
    const size_t phase = pod::PhaseIndex(tracked.entry.phase_dir);
    auto entry = scanner_->Entry(phase, it->first);
    if (!entry && entry.error().code() == ENOENT) {
      RETURN_IF_ERROR(Relocate(it->first, phase));
      auto again = pods_.find(it->first);
      if (again == pods_.end() || again->second.cached) {
        return Ok();
      }
      return Read(again);  // moved on (a pod moves forward only, so this ends)
    }
    if (!entry) {
      return Err(std::move(entry).error());
    }
    tracked.entry = std::move(*entry);
    auto fresh = std::make_shared<CachedPod>();
    const int64_t started = NowNs();
    fresh->view = ReadPodView(tracked.entry);
    fresh->basic = fresh->view.pod;
    StripDetail(fresh->basic);
    fresh->wire_detail = EncodePodsField(fresh->view.pod);
    fresh->wire_basic = EncodePodsField(fresh->basic);
    fresh->racy = !tracked.watched && IsRacy(fresh->view.stamp.NewestNs(), started);
    tracked.cached = std::move(fresh);
    snapshot_.reset();
    return Ok();
  }

  // Watches what the pod's view is read from: its directory (manifest, state link, phase_since),
  // its state directory (pid, supervisor.json), state/apps and each app's directory (status).
  // The parents are watched before the apps' directories are listed, so that an app directory
  // made meanwhile is reported. Pods whose view holds no file need no watch.
  bool Watch(const std::string& uuid, Tracked& tracked) {
    if (IsBasicOnly(tracked.entry.state)) {
      watcher_->UnwatchPod(tracked.wds);
      return true;
    }
    const std::string state = os::JoinPath(tracked.entry.path, pod::kStateLink);
    const std::string apps = os::JoinPath(state, "apps");
    std::vector<std::string> dirs = {tracked.entry.path, state, apps};
    if (!watcher_->WatchPod(uuid, dirs, tracked.wds)) {
      return false;
    }
    std::vector<std::string> app_dirs = SubDirs(apps);
    if (app_dirs.empty()) {
      return true;
    }
    dirs.insert(dirs.end(), app_dirs.begin(), app_dirs.end());
    return watcher_->WatchPod(uuid, dirs, tracked.wds);
  }

  const std::string pods_dir_;
  const PodCatalogOptions options_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::optional<pod::PodScanner> scanner_;
  std::unique_ptr<PodWatcher> watcher_;  // null: every call scans and stats
  bool scanned_ = false;  // pods_ is a full scan plus every event since (only with watcher_)
  std::map<std::string, Tracked> pods_;
  std::set<std::string> moved_;               // pods to locate again (inotify named them)
  std::shared_ptr<const Snapshot> snapshot_;  // null: to be rebuilt from pods_
  PodCatalogStats stats_;
};

}  // namespace

Result<std::vector<v1alpha::Pod>> PodCatalog::List(const PodFilters& filters, bool detail) {
  PodList pods;
  RETURN_IF_ERROR(ListInto(filters, detail, &pods));
  return std::vector<v1alpha::Pod>(std::make_move_iterator(pods.begin()),
                                   std::make_move_iterator(pods.end()));
}

Result<std::unique_ptr<PodCatalog>> PodCatalog::Open(const std::string& data_dir,
                                                     PodCatalogOptions options) {
  if (!os::IsDirectory(data_dir)) {
    return Err(Error::NotFound(fmt::format("data directory {} does not exist", data_dir)));
  }
  return std::unique_ptr<PodCatalog>(
      std::make_unique<DiskPodCatalog>(os::JoinPath(data_dir, "pods"), options));
}

}  // namespace comet::api
