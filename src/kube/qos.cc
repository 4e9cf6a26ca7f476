// QosClassName, PodQosClass, OomScoreAdj (to_comet.h): the kubelet's QoS classes
// (pkg/apis/core/v1/helper/qos) and oom_score_adj policy (pkg/kubelet/qos/policy.go).
#include <limits>

#include "kube/resources_convert.h"
#include "kube/to_comet.h"

namespace comet::kube {
namespace {

constexpr int kGuaranteedOomScoreAdj = -997;
constexpr int kBestEffortOomScoreAdj = 1000;
// Burstable scores stay strictly between the other classes' (the contract in to_comet.h).
constexpr int kMinBurstableOomScoreAdj = 2;
constexpr int kMaxBurstableOomScoreAdj = 999;

// Sums of the positive cpu and memory quantities of every container (zero counts as unset, as
// the kubelet's Cmp(zero) == 1 test has it).
struct QosSums {
  int64_t cpu_requests = 0;
  int64_t memory_requests = 0;
  int64_t cpu_limits = 0;
  int64_t memory_limits = 0;
  bool any = false;
  bool every_container_limited = true;  // cpu and memory limits on each
};

void Add(const std::optional<int64_t>& value, int64_t& sum, bool& any) {
  if (value && *value > 0) {
    sum += *value;
    any = true;
  }
}

void AddContainer(const Container& container, QosSums& sums) {
  auto parsed = ParseComputeResources(container.resources, "resources");
  if (!parsed) {  // an unreadable quantity (ToPodDraft rejects it): not a guarantee
    sums.every_container_limited = false;
    return;
  }
  Add(parsed->cpu_request_millis, sums.cpu_requests, sums.any);
  Add(parsed->memory_request_bytes, sums.memory_requests, sums.any);
  Add(parsed->cpu_limit_millis, sums.cpu_limits, sums.any);
  Add(parsed->memory_limit_bytes, sums.memory_limits, sums.any);
  const bool cpu_limited = parsed->cpu_limit_millis.value_or(0) > 0;
  const bool memory_limited = parsed->memory_limit_bytes.value_or(0) > 0;
  if (!cpu_limited || !memory_limited) {
    sums.every_container_limited = false;
  }
}

}  // namespace

const char* QosClassName(QosClass qos) {
  switch (qos) {
    case QosClass::kGuaranteed:
      return "Guaranteed";
    case QosClass::kBurstable:
      return "Burstable";
    case QosClass::kBestEffort:
      return "BestEffort";
  }
  return "BestEffort";
}

QosClass PodQosClass(const PodSpec& spec) {
  QosSums sums;
  for (const Container& container : spec.init_containers) {
    AddContainer(container, sums);
  }
  for (const Container& container : spec.containers) {
    AddContainer(container, sums);
  }
  if (!sums.any) {
    return QosClass::kBestEffort;
  }
  // Requests are defaulted from limits, so with every container limited the requests of both
  // resources exist; they must add up to the limits.
  if (sums.every_container_limited && sums.cpu_requests == sums.cpu_limits &&
      sums.memory_requests == sums.memory_limits) {
    return QosClass::kGuaranteed;
  }
  return QosClass::kBurstable;
}

int OomScoreAdj(QosClass qos, uint64_t memory_request_bytes, uint64_t memory_capacity_bytes) {
  switch (qos) {
    case QosClass::kGuaranteed:
      return kGuaranteedOomScoreAdj;
    case QosClass::kBestEffort:
      return kBestEffortOomScoreAdj;
    case QosClass::kBurstable:
      break;
  }
  if (memory_capacity_bytes == 0) {
    return kMaxBurstableOomScoreAdj;  // capacity unknown: least protected of the burstable
  }
  int64_t share = 0;  // 1000 * request / capacity, truncated like the kubelet's int64 division
  if (memory_request_bytes >= memory_capacity_bytes) {
    share = 1000;
  } else if (memory_request_bytes <= std::numeric_limits<uint64_t>::max() / 1000) {
    share = static_cast<int64_t>(memory_request_bytes * 1000 / memory_capacity_bytes);
  } else {
    share = static_cast<int64_t>(static_cast<long double>(memory_request_bytes) * 1000 /
                                 static_cast<long double>(memory_capacity_bytes));
  }
  const int64_t score = 1000 - share;
  if (score < kMinBurstableOomScoreAdj) {
    return kMinBurstableOomScoreAdj;
  }
  if (score > kMaxBurstableOomScoreAdj) {
    return kMaxBurstableOomScoreAdj;
  }
  return static_cast<int>(score);
}

}  // namespace comet::kube
