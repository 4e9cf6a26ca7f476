// Rootless image commands run in a user namespace, podman's way ("podman unshare"): comet
// re-executes itself as root of a namespace mapping the user's /etc/subuid and /etc/subgid
// ranges, so that unpacked layers keep their ownership. Not thread-safe (called from main()).
#ifndef COMET_CLI_ROOTLESS_USERNS_H_
#define COMET_CLI_ROOTLESS_USERNS_H_

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace comet::cli {

// The environment marker of the re-executed comet ("1"); set to anything, no re-exec happens
// (COMET_USERNS=0 runs rootless commands without a namespace: files then belong to the user).
inline constexpr const char* kUsernsEnv = "COMET_USERNS";
// Set ("1") as well when subordinate ranges were mapped (image ownership is kept).
inline constexpr const char* kUsernsMappedEnv = "COMET_USERNS_MAPPED";

// When not root and COMET_USERNS is unset: runs `args` (our argv) again through
// /proc/self/exe as root of a new user + mount namespace mapping 0 to the user and 1..N to the
// user's subordinate uids and gids (only the user's own ids when either file lists none), with
// stdin/stdout/stderr inherited, and returns its exit code (128 + n when killed by signal n).
// nullopt when no re-exec is needed (root, or already inside). An error means the namespace
// could not be set up and nothing ran. While it waits, SIGINT and SIGQUIT are ignored (the
// terminal sends them to the child too); if this process dies, the child gets SIGTERM.
[[nodiscard]] Result<std::optional<int>> ReexecInUserNamespaceIfRootless(
    const std::vector<std::string>& args);

// True in the comet that ReexecInUserNamespaceIfRootless started: COMET_USERNS is set and this
// is not the initial user namespace. Such a process is uid 0 but must act as the rootless user
// (data directory, overlay with userxattr).
bool InRootlessUserNamespace();

}  // namespace comet::cli

#endif  // COMET_CLI_ROOTLESS_USERNS_H_
