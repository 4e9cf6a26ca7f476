// Parsing of OCI mount options ("ro", "nosuid", "rbind", "rshared", "rro", "mode=755" ...) into
// mount(2) flags, propagation changes, mount_setattr(2) attributes and the fs data string.
// Pure functions; thread-safe.
#ifndef COMET_RUNTIME_LINUX_MOUNT_OPTIONS_H_
#define COMET_RUNTIME_LINUX_MOUNT_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::runtime {

struct MountOptions {
  unsigned long flags = 0;                 // MS_RDONLY, MS_NOSUID ... (MS_BIND|MS_REC for rbind)
  std::vector<unsigned long> propagation;  // MS_SHARED|MS_REC ..., applied in order after mounting
  uint64_t attr_set = 0;                   // recursive attributes (rro, rnosuid ...) for
  uint64_t attr_clr = 0;                   // mount_setattr(AT_RECURSIVE)
  std::string data;                        // options the kernel flags do not know, comma-joined
  bool bind = false;                       // "bind" or "rbind"
};

// Unknown options go to `data` unchanged (filesystem-specific, e.g. "size=65536k"). Fails only on
// options comet refuses (idmapped mounts), naming the option.
[[nodiscard]] Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options);

// "rshared" -> MS_SHARED|MS_REC; "" -> 0. Fails on anything else.
[[nodiscard]] Result<unsigned long> ParsePropagation(std::string_view value);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_MOUNT_OPTIONS_H_
