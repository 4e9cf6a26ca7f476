// Helpers shared by validate.cc and validate_linux.cc. Internal to the oci layer; thread-safe.
#ifndef COMET_OCI_VALIDATE_INTERNAL_H_
#define COMET_OCI_VALIDATE_INTERNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"
#include "oci/validate.h"

namespace comet::oci::internal {

// "<path>: <what>" as an EINVAL Error.
Error FieldError(std::string_view path, std::string_view what);
// A JSON-style quoted rendering of untrusted text for messages.
std::string Quote(std::string_view text);

// A non-empty absolute path without NUL bytes.
[[nodiscard]] Status CheckAbsolutePath(std::string_view value, std::string_view path);
[[nodiscard]] Status CheckNoNul(std::string_view value, std::string_view path);
// Sizes > 0, no overflow past 2^32, no overlapping container or host ranges.
[[nodiscard]] Status CheckIdMappings(const std::vector<IdMapping>& mappings, std::string_view path);

// The namespace entry of `type` in the spec, or nullptr.
const Namespace* FindNamespace(const Spec& spec, std::string_view type);

// Everything under "linux", plus the fields elsewhere that depend on it (hostname, mount
// uid=/gid= options when rootless).
[[nodiscard]] Status ValidateLinux(const Spec& spec, const ValidateOptions& options);
// Parts of ValidateLinux, in validate_misc.cc.
[[nodiscard]] Status ValidateSeccompSection(const Seccomp& seccomp);
[[nodiscard]] Status ValidateLinuxMisc(const Spec& spec, const ValidateOptions& options);

}  // namespace comet::oci::internal

#endif  // COMET_OCI_VALIDATE_INTERNAL_H_
