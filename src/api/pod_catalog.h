// The pods of one data directory as v1alpha.Pod messages, for the api-service: built from the
// on-disk state (pods/<phase>/<uuid>, the manifest, the status files, the lock) and cached.
// Invalidation is by change, not by re-reading: inotify on the phase directories and on each
// pod's directories says which pods moved or changed, so a warm ListPods touches no file of an
// unchanged pod; only the lock of pods whose state depends on it (in prepare/, run/,
// exited-garbage/, garbage/) is probed on every call, since a killed supervisor releases its lock
// without any file event. Without inotify (or past the watch bound) pods are checked by stat.
// Never writes anything (the service may run as an unprivileged member of the data directory's
// group). Thread-safe: one mutex guards the index and the inotify queue; a call answers from an
// immutable snapshot (shared_ptr) of the cached pods, copied into its response outside the mutex.
#ifndef COMET_API_POD_CATALOG_H_
#define COMET_API_POD_CATALOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

using PodFilters = google::protobuf::RepeatedPtrField<v1alpha::PodFilter>;
using PodList = google::protobuf::RepeatedPtrField<v1alpha::Pod>;

struct PodCatalogOptions {
  // false: no inotify; every call lists the phase directories and stats every pod (the
  // fallback when inotify_init1 fails, kept selectable for tests).
  bool use_inotify = true;
  // The most inotify watches on pods' directories (3 + one per app for a pod that ran, 1 for a
  // prepared one); pods beyond it are checked by stat. The kernel's max_user_watches (shared by
  // the user's processes) also applies: a watch it refuses has the same fallback.
  size_t max_pod_watches = 65536;
};

// What the catalog did since Open, for tests and metrics.
struct PodCatalogStats {
  uint64_t pod_reads = 0;     // pods read from disk (a cache miss or a changed pod)
  uint64_t stamp_checks = 0;  // pods checked by stat (no inotify watch)
  uint64_t lock_probes = 0;   // flock probes of pods whose state depends on their lock
  uint64_t full_scans = 0;    // listings of every phase directory
  size_t cached_pods = 0;     // pods in the cache now (only pods still on disk are kept)
  size_t pod_watches = 0;     // inotify watches on pods' directories now
  bool inotify = false;       // whether changes are watched (else every call stats every pod)
};

class PodCatalog {
 public:
  // `data_dir`: comet's data directory (its pods/ must exist and be readable).
  [[nodiscard]] static Result<std::unique_ptr<PodCatalog>> Open(const std::string& data_dir,
                                                                PodCatalogOptions options = {});
  virtual ~PodCatalog() = default;

  // The pods matching any of `filters` (all pods when there is none), sorted by id, appended to
  // `out` (a response's field: each pod is copied once, from the cache). Pods in embryo,
  // preparing or aborted-prepare state carry only id and state. Without `detail` no pod carries
  // its manifest or its apps. Invalid filters (a malformed uuid, an unknown state value) are
  // Error::Invalid naming the field, with nothing appended.
  [[nodiscard]] virtual Status ListInto(const PodFilters& filters, bool detail, PodList* out) = 0;
  // The same pods already in wire form: the concatenation of `pieces` is the serialized
  // ListPodsResponse (each pod one `pods` field: tag, length, serialized Pod). Pods are encoded
  // once per change, not per call, and without filters the whole answer is one piece, built
  // once per change too. `keep` holds what the pieces point into (immutable).
  struct WirePods {
    std::shared_ptr<const void> keep;
    std::vector<std::string_view> pieces;
    size_t bytes = 0;
  };
  [[nodiscard]] virtual Result<WirePods> ListWire(const PodFilters& filters, bool detail) = 0;
  // ListInto as a vector.
  [[nodiscard]] Result<std::vector<v1alpha::Pod>> List(const PodFilters& filters, bool detail);
  // One pod by full uuid, with detail. NotFound when no such pod; Invalid for a malformed uuid.
  [[nodiscard]] virtual Result<v1alpha::Pod> Inspect(std::string_view id) = 0;
  // The directory of a pod (for GetLogs): NotFound when no such pod.
  [[nodiscard]] virtual Result<std::string> PodDir(std::string_view id) = 0;

  [[nodiscard]] virtual PodCatalogStats stats() const = 0;
  [[nodiscard]] uint64_t pod_reads() const { return stats().pod_reads; }
  [[nodiscard]] size_t cached_pods() const { return stats().cached_pods; }
};

}  // namespace comet::api

#endif  // COMET_API_POD_CATALOG_H_
