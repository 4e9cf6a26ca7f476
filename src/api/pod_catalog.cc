// PodCatalog over a pods directory (see pod_catalog.h). Every pod's view is cached with the
// stamp of what it was read from (pod_view.h); a call lists the phase directories (PodStore::List:
// a readdir per phase, a shared-flock probe per pod), re-stamps each pod (a stat of its directory
// and of its apps' status files) and re-reads only the pods whose stamp changed.
#include "api/pod_catalog.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "api/pod_filter.h"
#include "api/pod_view.h"
#include "base/strings.h"
#include "os/file.h"
#include "pod/pod_store.h"

namespace comet::api {
namespace {

struct CachedPod {
  PodView view;
  v1alpha::Pod basic;  // view.pod without detail, built once
  bool racy = false;
};

class DiskPodCatalog final : public PodCatalog {
 public:
  explicit DiskPodCatalog(std::string pods_dir) : pods_dir_(std::move(pods_dir)) {}

  Result<std::vector<v1alpha::Pod>> List(const PodFilters& filters, bool detail) override {
    RETURN_IF_ERROR(ValidatePodFilters(filters));
    std::vector<pod::PodEntry> entries;
    if (std::optional<std::set<std::string>> ids = NamedPods(filters)) {
      ASSIGN_OR_RETURN(entries, Entries(*ids));
    } else {
      const pod::PodStore* store = StoreIfReady();
      if (store == nullptr) {
        return std::vector<v1alpha::Pod>{};  // no pod was ever made here
      }
      ASSIGN_OR_RETURN(entries, store->List());
      DropVanished(entries);
    }
    std::vector<std::shared_ptr<const CachedPod>> views;
    views.reserve(entries.size());
    for (const pod::PodEntry& entry : entries) {
      views.push_back(Current(entry));
    }
    std::vector<v1alpha::Pod> out;
    for (const auto& cached : views) {
      // Filters see the full view (apps, image ids) whether or not the answer carries it.
      if (PodMatchesAny(cached->view.pod, filters)) {
        out.push_back(detail ? cached->view.pod : cached->basic);
      }
    }
    return out;
  }

  Result<v1alpha::Pod> Inspect(std::string_view id) override {
    ASSIGN_OR_RETURN(pod::PodEntry entry, Find(id));
    return Current(entry)->view.pod;
  }

  Result<std::string> PodDir(std::string_view id) override {
    ASSIGN_OR_RETURN(pod::PodEntry entry, Find(id));
    return entry.path;
  }

  uint64_t pod_reads() const override { return reads_.load(); }
  size_t cached_pods() const override {
    std::lock_guard lock(mu_);
    return cache_.size();
  }

 private:
  Result<pod::PodEntry> Find(std::string_view id) {
    std::optional<std::string> uuid = NormalizeUuid(id);
    if (!uuid) {
      return Err(Error::Invalid(fmt::format("\"{}\" is not a pod uuid", Printable(id, 64))));
    }
    const pod::PodStore* store = StoreIfReady();
    auto entry = store != nullptr ? store->Refresh(*uuid)
                                  : Result<pod::PodEntry>(Err(Error::NotFound("no pods")));
    if (!entry && entry.error().code() == ENOENT) {
      std::lock_guard lock(mu_);
      cache_.erase(*uuid);
      return Err(Error::NotFound(fmt::format("no pod {}", *uuid)));
    }
    return entry;
  }

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

  // The entries of the pods `ids` that exist, sorted by uuid.
  Result<std::vector<pod::PodEntry>> Entries(const std::set<std::string>& ids) {
    std::vector<pod::PodEntry> entries;
    const pod::PodStore* store = StoreIfReady();
    if (store == nullptr) {
      return entries;
    }
    for (const std::string& id : ids) {
      auto entry = store->Refresh(id);
      if (!entry && entry.error().code() == ENOENT) {
        continue;
      }
      if (!entry) {
        return Err(std::move(entry).error());
      }
      entries.push_back(std::move(*entry));
    }
    return entries;
  }

  // The cached view of `entry` when its stamp still holds, else a fresh one (read without the
  // mutex, so that concurrent calls read different pods in parallel).
  std::shared_ptr<const CachedPod> Current(const pod::PodEntry& entry) {
    std::shared_ptr<const CachedPod> cached;
    {
      std::lock_guard lock(mu_);
      if (auto it = cache_.find(entry.uuid); it != cache_.end()) {
        cached = it->second;
      }
    }
    if (cached && !cached->racy &&
        StampPod(entry, cached->view.status_files) == cached->view.stamp) {
      return cached;
    }
    reads_.fetch_add(1);
    auto fresh = std::make_shared<CachedPod>();
    const int64_t started = NowNs();
    fresh->view = ReadPodView(entry);
    fresh->basic = fresh->view.pod;
    StripDetail(fresh->basic);
    fresh->racy = IsRacy(fresh->view.stamp.NewestNs(), started);
    std::lock_guard lock(mu_);
    cache_[entry.uuid] = fresh;
    return fresh;
  }

  // Forgets the pods that are gone (`entries`: a complete, sorted listing).
  void DropVanished(const std::vector<pod::PodEntry>& entries) {
    auto listed = [&](const std::string& uuid) {
      return std::binary_search(entries.begin(), entries.end(), uuid,
                                [](const auto& a, const auto& b) { return UuidOf(a) < UuidOf(b); });
    };
    std::lock_guard lock(mu_);
    std::erase_if(cache_, [&](const auto& item) { return !listed(item.first); });
  }

  static const std::string& UuidOf(const pod::PodEntry& entry) { return entry.uuid; }
  static const std::string& UuidOf(const std::string& uuid) { return uuid; }

  // The pods directory once `comet` made it: PodStore::Open creates missing phase directories and
  // a reader must create nothing, so the store is opened only when all of them exist. Until then
  // there are no pods (a service started before the first `comet` command).
  const pod::PodStore* StoreIfReady() {
    std::lock_guard lock(store_mu_);
    if (!store_) {
      for (const char* phase : pod::kPhaseDirs) {
        if (!os::IsDirectory(os::JoinPath(pods_dir_, phase))) {
          return nullptr;
        }
      }
      auto opened = pod::PodStore::Open(pods_dir_);
      if (!opened) {
        return nullptr;
      }
      store_.emplace(std::move(*opened));
    }
    return &*store_;
  }

  const std::string pods_dir_;
  std::mutex store_mu_;
  std::optional<pod::PodStore> store_;
  mutable std::mutex mu_;
  std::atomic<uint64_t> reads_{0};
  std::unordered_map<std::string, std::shared_ptr<const CachedPod>> cache_;
};

}  // namespace

Result<std::unique_ptr<PodCatalog>> PodCatalog::Open(const std::string& data_dir) {
  if (!os::IsDirectory(data_dir)) {
    return Err(Error::NotFound(fmt::format("data directory {} does not exist", data_dir)));
  }
  return std::unique_ptr<PodCatalog>(
      std::make_unique<DiskPodCatalog>(os::JoinPath(data_dir, "pods")));
}

}  // namespace comet::api
