// rkt's PodFilter semantics for the api-service: every non-empty field of one filter must match
// (within a repeated field any value does, except annotations, which must all be present), the
// filters of a request are OR-ed, and no filter matches every pod. Thread-safe (pure functions).
#ifndef COMET_API_POD_FILTER_H_
#define COMET_API_POD_FILTER_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

using PodFilters = google::protobuf::RepeatedPtrField<v1alpha::PodFilter>;

// Error::Invalid naming the field ("filters[1].ids[0]: ...") for a malformed uuid or a state
// value outside v1alpha.PodState. Call once per request, before matching.
[[nodiscard]] Status ValidatePodFilters(const PodFilters& filters);

// Whether `pod` (its full view: apps and cgroup filled as far as its state allows) matches
// `filter`. The filter must have passed ValidatePodFilters.
[[nodiscard]] bool PodMatchesFilter(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter);

// True when `filters` is empty or any of them matches.
[[nodiscard]] bool PodMatchesAny(const v1alpha::Pod& pod, const PodFilters& filters);

// `text` in lowercase when it is a full pod uuid (either case), else nullopt.
[[nodiscard]] std::optional<std::string> NormalizeUuid(std::string_view text);

// Whether `pod_cgroup` is `cgroup` or one of its ancestors, on a path-component boundary
// ("/comet/pod-x" is a prefix of "/comet/pod-x/app" but not of "/comet/pod-xy").
[[nodiscard]] bool IsCgroupPrefix(std::string_view pod_cgroup, std::string_view cgroup);

}  // namespace comet::api

#endif  // COMET_API_POD_FILTER_H_
