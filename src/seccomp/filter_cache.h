// A per-boot, per-user cache of compiled seccomp programs on disk: compiling the default profile
// with libseccomp costs about a millisecond of CPU on every container start, and a pod
// supervisor runs one container per process, so only a cache on disk helps. Thread-safe (no
// shared state; concurrent writers of one entry each rename a whole file into place).
#ifndef COMET_SECCOMP_FILTER_CACHE_H_
#define COMET_SECCOMP_FILTER_CACHE_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/spec.h"
#include "seccomp/filter.h"

namespace comet::seccomp {

enum class CacheOutcome {
  kDisabled,  // no usable cache directory: compiled afresh
  kHit,       // loaded from the cache
  kMiss,      // compiled afresh, then stored (or the store failed: logged at debug level)
};

// Compile(), through the cache directory `dir` (empty: no cache). The directory is created
// (mode 0700) when missing and used only when it is a real directory of this euid that nobody
// else may enter (mode & 077 == 0); otherwise the cache is skipped. An entry is used only when
// it is a regular file of this euid whose stored inputs equal the profile's inputs exactly
// (CacheInputs) and whose checksum holds; a missing, short, corrupt or mismatching entry is
// replaced by a fresh compile. The cache never changes the result, only its cost: errors are
// Compile's. `outcome` (optional) says what happened, for tests and debug logs.
[[nodiscard]] Result<CompiledFilter> CompileCached(const oci::Seccomp& profile,
                                                   const std::string& dir,
                                                   CacheOutcome* outcome = nullptr);

// Everything that determines the program Compile makes of `profile`, serialised canonically:
// the profile's rules, default action, architectures and flags; libseccomp's version, the
// seccomp API level it probed from the kernel, the native architecture and the kernel release;
// the build id of the code that compiles. Empty when some of it cannot be known (no cache then).
[[nodiscard]] std::string CacheInputs(const oci::Seccomp& profile);
// The entry's file name in the cache directory: 16 hex digits of the FNV-1a 64 of `inputs`.
[[nodiscard]] std::string CacheEntryName(std::string_view inputs);

}  // namespace comet::seccomp

#endif  // COMET_SECCOMP_FILTER_CACHE_H_
