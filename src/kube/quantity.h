// Kubernetes resource quantities ("500m", "2", "1.5Gi", "1e3", "128974848"), as
// k8s.io/apimachinery/pkg/api/resource parses them, converted exactly (no floating point) to the
// integer the kubelet uses, rounded up as Quantity.MilliValue()/Value() round. Negative
// quantities are rejected: no resource comet reads may be negative. Errors quote the text
// (`"1.5.5": not a valid quantity`). Thread-safe (pure functions).
#ifndef COMET_KUBE_QUANTITY_H_
#define COMET_KUBE_QUANTITY_H_

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace comet::kube {

// CPU in thousandths of a core: "500m" -> 500, "2" -> 2000, "0.1" -> 100, "1e3" -> 1000000;
// "0.0001" -> 1 (rounded up).
[[nodiscard]] Result<int64_t> ParseCpuMillis(std::string_view text);

// Bytes (memory, ephemeral-storage, emptyDir sizeLimit): binary suffixes Ki Mi Gi Ti Pi Ei,
// decimal k M G T P E, m (milli, rounded up to a whole byte), exponents ("1e3"), decimals
// ("1.5Gi").
[[nodiscard]] Result<int64_t> ParseQuantityBytes(std::string_view text);

// A whole value (device counts such as nvidia.com/gpu: "1", "2"), rounded up like
// Quantity.Value(): same syntax as ParseQuantityBytes.
[[nodiscard]] Result<int64_t> ParseQuantityValue(std::string_view text);

}  // namespace comet::kube

#endif  // COMET_KUBE_QUANTITY_H_
