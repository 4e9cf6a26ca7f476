// The names an OCI config may use that this runtime knows: capabilities, rlimits, namespaces,
// hooks, seccomp actions/operators/architectures/flags, mount options. One table each, shared by
// validate.cc and features.cc so that what we accept and what we advertise agree. Constant data;
// thread-safe.
#ifndef COMET_OCI_NAMES_H_
#define COMET_OCI_NAMES_H_

#include <span>
#include <string_view>

namespace comet::oci {

// "CAP_CHOWN" ... "CAP_CHECKPOINT_RESTORE", indexed by capability number (0..40).
std::span<const std::string_view> CapabilityNames();
// "RLIMIT_CPU" ... "RLIMIT_RTTIME".
std::span<const std::string_view> RlimitNames();
// "pid" "network" "mount" "ipc" "uts" "user" "cgroup" "time".
std::span<const std::string_view> NamespaceTypes();
// "prestart" "createRuntime" ... "poststop".
std::span<const std::string_view> HookNames();
std::span<const std::string_view> SeccompActions();
std::span<const std::string_view> SeccompOperators();
std::span<const std::string_view> SeccompArchitectures();  // "SCMP_ARCH_X86_64" ...
std::span<const std::string_view> SeccompFlags();          // "SECCOMP_FILTER_FLAG_LOG" ...
// The mount options the runtime turns into mount flags or propagation rather than passing them
// to the filesystem as data.
std::span<const std::string_view> MountOptions();

// The capability number of `name` ("CAP_KILL" -> 5), or -1.
int CapabilityNumber(std::string_view name);
bool Contains(std::span<const std::string_view> names, std::string_view name);

}  // namespace comet::oci

#endif  // COMET_OCI_NAMES_H_
