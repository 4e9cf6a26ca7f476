// Applying one parsed flag of the pod commands to PodRunOptions: pod flags, app flags and
// booleans (the flag table and the token loop that find them are in pod_run_flags.cc). Pure,
// thread-safe.
#ifndef COMET_CLI_POD_RUN_FLAG_APPLY_H_
#define COMET_CLI_POD_RUN_FLAG_APPLY_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "cli/pod_run_flags.h"

namespace comet::cli::internal {

// A pod flag (--hostname, --volume, --pull-policy ...) with its value.
[[nodiscard]] Status ApplyPodFlag(std::string_view name, const std::string& value,
                                  PodRunOptions& out);
// An app flag (--exec, --user, --cpu, --mount ...) with its value, to the app it follows.
[[nodiscard]] Status ApplyAppFlag(std::string_view name, const std::string& value, AppFlags& app);
// A boolean flag; `app` is null before the first image (pod position).
[[nodiscard]] Status ApplyBoolFlag(std::string_view name, bool value, PodRunOptions& out,
                                   AppFlags* app);

}  // namespace comet::cli::internal

#endif  // COMET_CLI_POD_RUN_FLAG_APPLY_H_
