// `comet-runtime update` single-value flags (--memory, --cpu-quota, ...) turned into the
// oci::Resources the runtime applies. Pure functions, thread-safe.
#ifndef COMET_CLI_UPDATE_FLAGS_H_
#define COMET_CLI_UPDATE_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::cli {

// Each field holds the flag's text as given; absent = flag not given = value left unchanged.
struct UpdateFlags {
  std::optional<std::string> memory;              // bytes, with an optional k/m/g/t/p unit
  std::optional<std::string> memory_reservation;  // same
  std::optional<std::string> memory_swap;         // same; memory+swap total, -1 = unlimited
  std::optional<std::string> cpu_shares;
  std::optional<std::string> cpu_quota;  // microseconds per period, -1 = unlimited
  std::optional<std::string> cpu_period;
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  std::optional<std::string> pids_limit;    // -1 = unlimited
  std::optional<std::string> blkio_weight;  // 10..1000

  [[nodiscard]] bool Empty() const;
};

// Parses a memory size: "-1" (unlimited), or a decimal number of bytes with an optional binary
// unit, case-insensitive: 512, 64k, 1.5g, 2GiB, 10mb (k = 1024, as runc and docker read them).
[[nodiscard]] Result<int64_t> ParseMemoryBytes(std::string_view text);

// Sets in `resources` every field whose flag was given; fields not given keep their value, so
// flags can refine a document read with --resources. Errors name the flag.
[[nodiscard]] Status ApplyUpdateFlags(const UpdateFlags& flags, oci::Resources& resources);

}  // namespace comet::cli

#endif  // COMET_CLI_UPDATE_FLAGS_H_
