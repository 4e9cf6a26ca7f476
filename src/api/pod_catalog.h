// The pods of one data directory as v1alpha.Pod messages, for the api-service: built from the
// on-disk state (pods/<phase>/<uuid>, the manifest, the status files, the lock) and kept in a
// cache whose entries are dropped when what they were read from changes, so that a ListPods over
// many pods re-reads only the pods that changed. Never writes anything (the service may run as
// an unprivileged member of the data directory's group). Thread-safe.
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

class PodCatalog {
 public:
  // `data_dir`: comet's data directory (its pods/ must exist and be readable).
  [[nodiscard]] static Result<std::unique_ptr<PodCatalog>> Open(const std::string& data_dir);
  virtual ~PodCatalog() = default;

  // The pods matching any of `filters` (all pods when there is none), sorted by id. Pods in
  // embryo, preparing or aborted-prepare state carry only id and state. Without `detail` no pod
  // carries its manifest or its apps' image manifests. Invalid filters (a malformed uuid, an
  // unknown state value) are Error::Invalid naming the field.
  [[nodiscard]] virtual Result<std::vector<v1alpha::Pod>> List(const PodFilters& filters,
                                                               bool detail) = 0;
  // One pod by full uuid, with detail. NotFound when no such pod; Invalid for a malformed uuid.
  [[nodiscard]] virtual Result<v1alpha::Pod> Inspect(std::string_view id) = 0;
  // The directory of a pod (for GetLogs): NotFound when no such pod.
  [[nodiscard]] virtual Result<std::string> PodDir(std::string_view id) = 0;

  // Cache statistics, for tests and metrics: pods read from disk since Open (a cache miss or a
  // changed pod), and pods in the cache now (only pods still on disk are kept).
  [[nodiscard]] virtual uint64_t pod_reads() const { return 0; }
  [[nodiscard]] virtual size_t cached_pods() const { return 0; }
};

}  // namespace comet::api

#endif  // COMET_API_POD_CATALOG_H_
