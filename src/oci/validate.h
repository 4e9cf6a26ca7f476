// Checks an oci::Spec for what the runtime needs before it creates anything: each error names
// the config.json field ("linux.namespaces[3].type: unknown namespace type \"foo\""). Purely
// syntactic: nothing here looks at the filesystem (the rootfs layer resolves paths safely) or at
// the kernel. Pure functions; thread-safe.
#ifndef COMET_OCI_VALIDATE_H_
#define COMET_OCI_VALIDATE_H_

#include <string_view>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::oci {

struct ValidateOptions {
  // The runtime runs without real root. Adds the checks only a rootless runtime needs (mount
  // uid=/gid= options must name an id mapped into the user namespace).
  bool rootless = false;
  // `create`/`run` need a process with args; `spec`-style checks of a bare config do not.
  bool require_process = true;
  // A user namespace without uid/gid mappings is accepted because the runtime will map the
  // caller's euid/egid to 0 itself (rootless auto-mapping). Otherwise it is an error.
  bool auto_userns_mapping = false;
};

// Returns the first problem found, or Ok().
[[nodiscard]] Status Validate(const Spec& spec, const ValidateOptions& options = {});

// Checks a process object alone (`exec --process`); `path` prefixes the field names in errors
// ("process" for config.json, "" for a process.json file).
[[nodiscard]] Status ValidateProcess(const Process& process, std::string_view path,
                                     bool require_args = true);

}  // namespace comet::oci

#endif  // COMET_OCI_VALIDATE_H_
