// What a CDI device node leaves out, taken from the host: its type, major and minor numbers from
// a stat of the host node, done by stage0 when it resolves devices (the supervisor only applies
// what the pod manifest says). Thread-safe (stat only).
#ifndef COMET_CDI_DEVICE_INFO_H_
#define COMET_CDI_DEVICE_INFO_H_

#include <cstdint>
#include <string>

#include "base/result.h"
#include "cdi/spec.h"

namespace comet::cdi {

struct HostDevice {
  std::string type;  // "c", "b" or "p"
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t mode = 0;  // permission bits
};

// lstat of `path`: a character or block device or a fifo; anything else is an error naming it.
[[nodiscard]] Result<HostDevice> StatHostDevice(const std::string& path);

// Sets host_path (to path when empty) and, when the node lacks its type or its major number
// (and is not a fifo), fills them from the host node; a type given that differs from the host
// node's is an error. "u" counts as "c". As the reference implementation does.
[[nodiscard]] Status FillDeviceInfo(DeviceNode& node);

}  // namespace comet::cdi

#endif  // COMET_CDI_DEVICE_INFO_H_
