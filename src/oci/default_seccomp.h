// The seccomp profile comet gives a container by default: allow everything but the syscalls a
// container has no business making (kernel modules, clocks, keyrings, mounts, new namespaces...),
// which fail with EPERM, in the spirit of docker's and podman's default profiles. Thread-safe.
#ifndef COMET_OCI_DEFAULT_SECCOMP_H_
#define COMET_OCI_DEFAULT_SECCOMP_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace comet::oci {

// `effective_caps` ("CAP_SYS_ADMIN", ...) are the capabilities the container keeps: a syscall a
// kept capability exists to allow is not denied (CAP_SYS_ADMIN: mount, unshare, setns, clone
// with namespace flags; CAP_SYS_PTRACE: ptrace, process_vm_*; CAP_SYS_TIME: the clock calls...).
// The architectures are the build's native one and its compat ABIs (x86_64: x86 and x32), so
// that a 32-bit process meets the same rules instead of the bad-architecture kill.
Seccomp DefaultSeccompProfile(const std::vector<std::string>& effective_caps);

// The personality(2) values the profile allows: Linux, PER_LINUX32, UNAME26 and both, and the
// 0xffffffff query.
inline constexpr std::array<uint32_t, 5> kAllowedPersonalities = {0x0, 0x8, 0x20000, 0x20008,
                                                                  0xffffffff};

}  // namespace comet::oci

#endif  // COMET_OCI_DEFAULT_SECCOMP_H_
