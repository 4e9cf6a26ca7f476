// rkt's PodFilter matching (see pod_filter.h).
#include "api/pod_filter.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/strings.h"
#include "pod/manifest.h"

namespace comet::api {
namespace {

template <class Values, class Pred>
bool AnyOf(const Values& values, Pred pred) {
  return std::any_of(values.begin(), values.end(), pred);
}

bool HasAnnotation(const v1alpha::Pod& pod, const v1alpha::KeyValue& want) {
  return AnyOf(pod.annotations(), [&](const v1alpha::KeyValue& kv) {
    return kv.key() == want.key() && kv.value() == want.value();
  });
}

bool MatchesId(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  // Pod ids are lowercase; filters were validated as uuids of either case.
  return AnyOf(filter.ids(), [&](const std::string& id) {
    return id.size() == pod.id().size() &&
           std::equal(id.begin(), id.end(), pod.id().begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  });
}

bool MatchesState(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return AnyOf(filter.states(), [&](int state) { return state == pod.state(); });
}

bool MatchesAppName(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return AnyOf(filter.app_names(), [&](const std::string& name) {
    return AnyOf(pod.apps(), [&](const v1alpha::App& app) { return app.name() == name; });
  });
}

bool MatchesImageId(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return AnyOf(filter.image_ids(), [&](const std::string& id) {
    return AnyOf(pod.apps(), [&](const v1alpha::App& app) { return app.image().id() == id; });
  });
}

bool MatchesNetwork(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return AnyOf(filter.network_names(), [&](const std::string& name) {
    return AnyOf(pod.networks(), [&](const v1alpha::Network& net) { return net.name() == name; });
  });
}

bool MatchesCgroup(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return !pod.cgroup().empty() &&
         AnyOf(filter.cgroups(), [&](const std::string& cgroup) { return cgroup == pod.cgroup(); });
}

bool MatchesSubCgroup(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  return !pod.cgroup().empty() && AnyOf(filter.pod_sub_cgroups(), [&](const std::string& cgroup) {
    return IsCgroupPrefix(pod.cgroup(), cgroup);
  });
}

}  // namespace

std::optional<std::string> NormalizeUuid(std::string_view text) {
  std::string uuid(text);
  std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!pod::IsValidUuid(uuid)) {
    return std::nullopt;
  }
  return uuid;
}

bool IsCgroupPrefix(std::string_view pod_cgroup, std::string_view cgroup) {
  while (cgroup.size() > 1 && cgroup.back() == '/') {
    cgroup.remove_suffix(1);
  }
  if (pod_cgroup.empty() || !StartsWith(cgroup, pod_cgroup)) {
    return false;
  }
  return cgroup.size() == pod_cgroup.size() || pod_cgroup.back() == '/' ||
         cgroup[pod_cgroup.size()] == '/';
}

Status ValidatePodFilters(const PodFilters& filters) {
  for (int i = 0; i < filters.size(); ++i) {
    const v1alpha::PodFilter& filter = filters.Get(i);
    for (int j = 0; j < filter.ids_size(); ++j) {
      if (!NormalizeUuid(filter.ids(j))) {
        return Err(Error::Invalid(fmt::format("filters[{}].ids[{}]: \"{}\" is not a pod uuid", i, j,
                                              Printable(filter.ids(j), 64))));
      }
    }
    for (int j = 0; j < filter.states_size(); ++j) {
      const int state = filter.states(j);
      if (!v1alpha::PodState_IsValid(state)) {
        return Err(Error::Invalid(
            fmt::format("filters[{}].states[{}]: {} is not a pod state", i, j, state)));
      }
    }
  }
  return Ok();
}

bool PodMatchesFilter(const v1alpha::Pod& pod, const v1alpha::PodFilter& filter) {
  if (filter.ids_size() > 0 && !MatchesId(pod, filter)) {
    return false;
  }
  if (filter.states_size() > 0 && !MatchesState(pod, filter)) {
    return false;
  }
  if (filter.app_names_size() > 0 && !MatchesAppName(pod, filter)) {
    return false;
  }
  if (filter.image_ids_size() > 0 && !MatchesImageId(pod, filter)) {
    return false;
  }
  if (filter.network_names_size() > 0 && !MatchesNetwork(pod, filter)) {
    return false;
  }
  if (!std::all_of(filter.annotations().begin(), filter.annotations().end(),
                   [&](const v1alpha::KeyValue& kv) { return HasAnnotation(pod, kv); })) {
    return false;
  }
  if (filter.cgroups_size() > 0 && !MatchesCgroup(pod, filter)) {
    return false;
  }
  return filter.pod_sub_cgroups_size() == 0 || MatchesSubCgroup(pod, filter);
}

bool PodMatchesAny(const v1alpha::Pod& pod, const PodFilters& filters) {
  return filters.empty() || AnyOf(filters, [&](const v1alpha::PodFilter& filter) {
           return PodMatchesFilter(pod, filter);
         });
}

}  // namespace comet::api
