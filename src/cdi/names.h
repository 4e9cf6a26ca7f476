// CDI device names (SPEC.md "Kind"): a kind is "vendor.com/class", a device's fully qualified
// name is "vendor.com/class=name". Checks and splitting only. Thread-safe (pure functions).
#ifndef COMET_CDI_NAMES_H_
#define COMET_CDI_NAMES_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace comet::cdi {

struct QualifiedName {
  std::string vendor;      // "nvidia.com"
  std::string class_name;  // "gpu"
  std::string name;        // "0", "all", "GPU-<uuid>"

  [[nodiscard]] std::string Kind() const { return vendor + "/" + class_name; }
  [[nodiscard]] std::string ToString() const { return Kind() + "=" + name; }
};

// "vendor.com/class=name", each part checked; errors name the input and the part.
[[nodiscard]] Result<QualifiedName> ParseQualifiedName(std::string_view text);

// True when `text` has the shape vendor/class=name (not a path): how `--device` tells a CDI name
// from a host device node. A true result may still fail ParseQualifiedName.
[[nodiscard]] bool LooksQualified(std::string_view text);

// "vendor.com/class": the vendor a DNS-subdomain-like word starting with a letter (at most 253
// characters), the class at most 63 characters starting with a letter; both of [A-Za-z0-9_.-]
// and ending with a letter or digit.
[[nodiscard]] Status ValidateKind(std::string_view kind);

// A device's name: 1-255 of [A-Za-z0-9_.:-], starting and ending with a letter or digit.
[[nodiscard]] Status ValidateDeviceName(std::string_view name);

}  // namespace comet::cdi

#endif  // COMET_CDI_NAMES_H_
