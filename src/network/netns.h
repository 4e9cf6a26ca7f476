// Pinned network namespaces: a new netns bind-mounted on a file (as `ip netns add` does), so it
// outlives every process in it and teardown (CNI DEL, gc after a kill -9) can still enter it.
// Thread-safe (each call works on its own paths; CreatePinnedNetns forks a short-lived child).
#ifndef COMET_NETWORK_NETNS_H_
#define COMET_NETWORK_NETNS_H_

#include <string>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::network {

// Makes `dir` (created if missing) a mount point of its own with shared propagation, like
// `ip netns` does for /run/netns. Why: a pin is a mount in the caller's mount namespace, and a
// mount namespace created later (by an app, a helper, a systemd service) copies it, keeping the
// netns alive there after we unmount ours. With `dir` shared, our later unmount (and any new
// pin) propagates to the copies made from it (peer or slave), so Remove frees the netns
// everywhere and a process whose mount namespace was copied earlier still sees new pins.
[[nodiscard]] Status MakeSharedPinDir(const std::string& dir);

// Creates a new network namespace with `lo` up and pins it on `path` (a new file; its parent
// is made a shared pin dir). The caller's own network namespace does not change: a forked child
// unshares and bind-mounts /proc/self/ns/net. Nothing is left behind on failure.
[[nodiscard]] Status CreatePinnedNetns(const std::string& path);

// Unmounts (MNT_DETACH) and unlinks `path`; a missing path or a file that is no longer a pin
// is fine, so it can be repeated.
[[nodiscard]] Status RemovePinnedNetns(const std::string& path);

// True when `path` is a network namespace file (nsfs), i.e. the pin is still in place.
bool IsNetnsPin(const std::string& path);

// Opens a pinned netns (O_RDONLY|O_CLOEXEC), checking it is one.
[[nodiscard]] Result<os::UniqueFd> OpenNetns(const std::string& path);

// Moves the calling thread into the netns of `fd` (setns(2) affects only this thread).
[[nodiscard]] Status EnterNetns(int fd);

}  // namespace comet::network

#endif  // COMET_NETWORK_NETNS_H_
