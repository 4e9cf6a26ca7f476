// The value parsers shared by the pod commands' flags (pod_run_flags.cc, pod_run_flag_apply.cc).
// Pure, thread-safe.
#ifndef COMET_CLI_POD_RUN_VALUES_H_
#define COMET_CLI_POD_RUN_VALUES_H_

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace comet::cli::internal {

// Go's strconv.ParseBool, as rkt's flags read booleans.
[[nodiscard]] Result<bool> ParseBool(std::string_view text);
[[nodiscard]] Result<int64_t> ParseNonNegative(std::string_view text);
// Invalid unless `text` is KEY=VALUE with a non-empty KEY.
[[nodiscard]] Status CheckKeyValue(std::string_view text);
// --stop-timeout: seconds, "10" or "10s".
[[nodiscard]] Result<int64_t> ParseSeconds(std::string_view text);

}  // namespace comet::cli::internal

#endif  // COMET_CLI_POD_RUN_VALUES_H_
