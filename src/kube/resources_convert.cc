// ParseComputeResources, CpuShares, ExtendedResources; see resources_convert.h.
#include "kube/resources_convert.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "kube/quantity.h"

namespace comet::kube {
namespace {

using internal::FieldError;

// cgroup v1 cpu.shares bounds, which the kubelet clamps to (pkg/kubelet/cm MinShares/MaxShares).
constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;

constexpr const char* kNvidiaGpu = "nvidia.com/gpu";
constexpr const char* kLegacyNvidiaGpu = "alpha.kubernetes.io/nvidia-gpu";

using Parser = Result<int64_t> (*)(std::string_view);

// Parses resources.<which>.<name> when given.
Result<std::optional<int64_t>> ParseOne(const std::map<std::string, std::string>& quantities,
                                        const char* name, Parser parse, std::string_view field,
                                        const char* which) {
  auto it = quantities.find(name);
  if (it == quantities.end()) {
    return std::optional<int64_t>();
  }
  const std::string path = fmt::format("{}.{}.{}", field, which, name);
  auto value = parse(it->second);
  if (!value) {
    return Err(FieldError(path, value.error().ToString()));
  }
  if (*value < 0) {
    return Err(FieldError(path, fmt::format("\"{}\": must not be negative", it->second)));
  }
  return std::optional<int64_t>(*value);
}

// One resource: its request defaulted from the limit, and request <= limit.
Status ParsePair(const ResourceRequirements& resources, const char* name, Parser parse,
                 std::string_view field, std::optional<int64_t>* request,
                 std::optional<int64_t>* limit) {
  ASSIGN_OR_RETURN(*limit, ParseOne(resources.limits, name, parse, field, "limits"));
  ASSIGN_OR_RETURN(*request, ParseOne(resources.requests, name, parse, field, "requests"));
  if (!*request && *limit) {
    *request = *limit;
  }
  if (*request && *limit && **request > **limit) {
    return Err(FieldError(fmt::format("{}.requests.{}", field, name),
                          fmt::format("must be less than or equal to the {} limit", name)));
  }
  return Ok();
}

// Kubernetes' "native" resource names: no domain, or one in kubernetes.io.
bool IsNativeResource(std::string_view name) {
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    return true;
  }
  std::string_view domain = name.substr(0, slash);
  return domain == "kubernetes.io" || domain.ends_with(".kubernetes.io");
}

// vendor.tld/name: a domain with a dot, a non-empty name.
bool IsExtendedResource(std::string_view name) {
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size() ||
      IsNativeResource(name) || name.substr(0, slash).find('.') == std::string_view::npos) {
    return false;
  }
  return name.find('/', slash + 1) == std::string_view::npos;
}

Result<int64_t> ParseDeviceCount(const std::string& quantity, const std::string& path) {
  auto millis = ParseCpuMillis(quantity);  // exact for whole numbers, shows fractions
  if (!millis) {
    return Err(FieldError(path, millis.error().ToString()));
  }
  if (*millis < 0 || *millis % 1000 != 0) {
    return Err(FieldError(path, fmt::format("\"{}\": must be a whole number", quantity)));
  }
  return *millis / 1000;
}

}  // namespace

Result<ComputeResources> ParseComputeResources(const ResourceRequirements& resources,
                                               std::string_view field) {
  ComputeResources out;
  RETURN_IF_ERROR(ParsePair(resources, "cpu", &ParseCpuMillis, field, &out.cpu_request_millis,
                            &out.cpu_limit_millis));
  RETURN_IF_ERROR(ParsePair(resources, "memory", &ParseQuantityBytes, field,
                            &out.memory_request_bytes, &out.memory_limit_bytes));
  RETURN_IF_ERROR(ParsePair(resources, "ephemeral-storage", &ParseQuantityBytes, field,
                            &out.ephemeral_request_bytes, &out.ephemeral_limit_bytes));
  return out;
}

uint64_t CpuShares(int64_t request_millis) {
  if (request_millis <= 0) {
    return kMinShares;
  }
  // Divide first when the product would overflow (requests of millions of cores).
  const auto millis = static_cast<uint64_t>(request_millis);
  const uint64_t shares = millis > kMaxShares * 1000 ? kMaxShares : millis * 1024 / 1000;
  return std::clamp(shares, kMinShares, kMaxShares);
}

Result<std::vector<DeviceRequest>> ExtendedResources(const ResourceRequirements& resources,
                                                     std::string_view field,
                                                     std::vector<std::string>* warnings) {
  // Extended resources are requested by their limit (the API server requires one, equal to any
  // request); a request alone is taken as the limit.
  std::map<std::string, std::pair<std::string, std::string>> quantities;  // name -> (q, path)
  for (const auto& [name, quantity] : resources.requests) {
    quantities[name] = {quantity, fmt::format("{}.requests.{}", field, name)};
  }
  for (const auto& [name, quantity] : resources.limits) {
    quantities[name] = {quantity, fmt::format("{}.limits.{}", field, name)};
  }
  std::vector<DeviceRequest> devices;
  for (const auto& [name, given] : quantities) {
    const auto& [quantity, path] = given;
    if (name == "cpu" || name == "memory") {
      continue;
    }
    std::string kind;
    if (name == kNvidiaGpu || name == kLegacyNvidiaGpu) {
      kind = kNvidiaGpu;
    } else if (IsExtendedResource(name)) {
      kind = name;
    } else if (name == "ephemeral-storage" || StartsWith(name, "hugepages-")) {
      warnings->push_back(fmt::format("{}: not supported, ignored", path));
      continue;
    } else {
      warnings->push_back(fmt::format("{}: unknown resource, ignored", path));
      continue;
    }
    ASSIGN_OR_RETURN(int64_t count, ParseDeviceCount(quantity, path));
    if (count == 0) {
      continue;
    }
    auto same = std::find_if(devices.begin(), devices.end(),
                             [&](const DeviceRequest& d) { return d.kind == kind; });
    if (same != devices.end()) {
      same->count += count;  // both GPU names given: the legacy one adds to the current one
    } else {
      devices.push_back(DeviceRequest{.kind = kind, .count = count});
    }
  }
  return devices;
}

}  // namespace comet::kube
