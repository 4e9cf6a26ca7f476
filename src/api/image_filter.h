// rkt's ImageFilter semantics for the api-service: every non-empty field of one filter must
// match (within a repeated field any value does, except labels and annotations, which must all
// be present), the filters of a request are OR-ed, and no filter matches every image.
// Thread-safe (pure functions).
#ifndef COMET_API_IMAGE_FILTER_H_
#define COMET_API_IMAGE_FILTER_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

using ImageFilters = google::protobuf::RepeatedPtrField<v1alpha::ImageFilter>;

// Field by field, for `image` as ImageCatalog builds it (name without tag, version = tag):
//   ids             the whole id ("sha256:<hex>"), exactly as rkt matched it
//   prefixes        a prefix of the name ("docker.io/library/busy")
//   base_names      the name without its registry ("library/busybox") or its last component
//                   ("busybox")
//   keywords        a substring of the name
//   labels          each present with that value
//   imported_after  import_timestamp > it (0: no bound); imported_before: import_timestamp < it
//   annotations     each present with that value
//   full_names      name:version ("docker.io/library/busybox:latest")
[[nodiscard]] bool ImageMatchesFilter(const v1alpha::Image& image,
                                      const v1alpha::ImageFilter& filter);

// Every image is matched against every value of every filter: a request may carry at most this
// many filters, and a filter this many values per field (as ListenEvents' filter).
inline constexpr int kMaxImageFilterValues = 1024;
// Invalid (naming the filter) beyond kMaxImageFilterValues; call before matching.
[[nodiscard]] Status ValidateImageFilters(const ImageFilters& filters);

// True when `filters` is empty or any of them matches.
[[nodiscard]] bool ImageMatchesAny(const v1alpha::Image& image, const ImageFilters& filters);

// "docker.io/library/busybox" -> "library/busybox": the first component goes when it names a
// registry (contains '.' or ':' or is "localhost", docker's rule).
[[nodiscard]] std::string_view RepositoryOf(std::string_view name);

// name:version, or the name alone when there is no version.
[[nodiscard]] std::string FullName(const v1alpha::Image& image);

}  // namespace comet::api

#endif  // COMET_API_IMAGE_FILTER_H_
