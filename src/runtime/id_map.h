// Writes a new user namespace's uid/gid maps: directly when privileged (or for a rootless
// process's single own-id mapping, after denying setgroups), else through the setuid helpers
// newuidmap/newgidmap, which check /etc/subuid and /etc/subgid. Thread-safe.
#ifndef COMET_RUNTIME_ID_MAP_H_
#define COMET_RUNTIME_ID_MAP_H_

#include <sys/types.h>

#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::runtime {

// True when the maps will be written directly by an unprivileged process, which requires
// "deny" in /proc/<pid>/setgroups: the container may then not call setgroups(2).
bool MappingDeniesSetgroups(const std::vector<oci::IdMapping>& uid_mappings,
                            const std::vector<oci::IdMapping>& gid_mappings);

// True when this process runs in a user namespace other than the initial one (its uid_map is
// not the identity map of all ids): e.g. a rootless pod supervisor, uid 0 in its own namespace.
bool InChildUserNamespace();
// True when /proc/self/setgroups says "deny" (setgroups(2) is refused in this namespace).
bool SetgroupsDeniedHere();

[[nodiscard]] Status WriteIdMappings(pid_t pid, const std::vector<oci::IdMapping>& uid_mappings,
                                     const std::vector<oci::IdMapping>& gid_mappings);

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_ID_MAP_H_
