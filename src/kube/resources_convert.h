// A container's resources.requests and .limits as numbers: cpu and memory (requests defaulted
// from limits, as the API server does), the kubelet's cpu shares, and the devices of extended
// resources (nvidia.com/gpu, ...) for CDI. Thread-safe (pure functions).
#ifndef COMET_KUBE_RESOURCES_CONVERT_H_
#define COMET_KUBE_RESOURCES_CONVERT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kube/objects.h"
#include "kube/to_comet.h"

namespace comet::kube {

// Absent: the container does not say. A request is the limit when only the limit is given.
struct ComputeResources {
  std::optional<int64_t> cpu_request_millis;
  std::optional<int64_t> cpu_limit_millis;
  std::optional<int64_t> memory_request_bytes;
  std::optional<int64_t> memory_limit_bytes;
  std::optional<int64_t> ephemeral_request_bytes;
  std::optional<int64_t> ephemeral_limit_bytes;
};

// Parses the cpu, memory and ephemeral-storage quantities. `field` is the resources' path
// ("spec.containers[0].resources"); errors name the quantity's ("...resources.limits.cpu: ...").
// Negative quantities and requests above limits are errors, as in the API server.
[[nodiscard]] Result<ComputeResources> ParseComputeResources(const ResourceRequirements& resources,
                                                             std::string_view field);

// The kubelet's MilliCPUToShares: request * 1024 / 1000, at least 2 (also for no request) and
// at most 262144 (cgroup v1 cpu.shares bounds).
[[nodiscard]] uint64_t CpuShares(int64_t request_millis);

// The devices the container's extended resources ask for: "nvidia.com/gpu" and the legacy
// "alpha.kubernetes.io/nvidia-gpu" as kind "nvidia.com/gpu", any other vendor.tld/name as
// itself. hugepages-*, ephemeral-storage and unknown names get a warning in `warnings`.
[[nodiscard]] Result<std::vector<DeviceRequest>> ExtendedResources(
    const ResourceRequirements& resources, std::string_view field,
    std::vector<std::string>* warnings);

}  // namespace comet::kube

#endif  // COMET_KUBE_RESOURCES_CONVERT_H_
