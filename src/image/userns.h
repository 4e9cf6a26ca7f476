// User namespaces for rootless image work (unpacking with subordinate ids, mounting overlay
// with userxattr): /etc/subuid parsing and running a function as root of a new user and mount
// namespace. Thread-safe; see RunInUserNamespace for what its body may do.
#ifndef COMET_IMAGE_USERNS_H_
#define COMET_IMAGE_USERNS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/unpack.h"

namespace comet::image {

// The subordinate id ranges of a user in `file` (/etc/subuid or /etc/subgid, subuid(5): lines
// "name-or-uid:start:count"), matched by `user_name` or by the decimal `uid`, in file order.
// host_id/size are the range; container_id numbers them consecutively from 1, so that
// RootlessIdMap's {0 -> the user} can go first. Blank lines, comments and other users'
// malformed lines are skipped; a malformed line of this user is an error. A missing file is a
// NotFound error; no range is an empty vector.
[[nodiscard]] Result<std::vector<IdRange>> SubordinateIds(const std::string& file, uid_t uid,
                                                          const std::string& user_name);

// {0 -> own_id, size 1} followed by `subordinate` (as SubordinateIds numbers them).
std::vector<IdRange> RootlessIdMap(uint32_t own_id, const std::vector<IdRange>& subordinate);

// Forks a child that unshares a user and a mount namespace; the parent writes its uid/gid maps
// (directly as root, else through newuidmap/newgidmap, which check /etc/subuid and
// /etc/subgid); the child then becomes uid/gid 0 there, makes its mounts private and returns
// body()'s value as its exit status (an exception escaping body: 125). Returns that status; an
// error when the namespace could not be set up or the child was killed by a signal.
//
// body runs in a forked child of a possibly multi-threaded process: only the calling thread
// exists there, and locks other threads held at fork stay held. We rely on glibc, whose fork
// makes malloc usable in the child, so body may allocate and use std::string, Result and
// system calls; it must not take locks other threads may hold (a std::mutex of the process,
// log::Write, stdio streams shared with other threads) nor wait for other threads. Mounts made
// by body disappear with the child's namespace when it exits.
[[nodiscard]] Result<int> RunInUserNamespace(const std::vector<IdRange>& uid_map,
                                             const std::vector<IdRange>& gid_map,
                                             const std::function<int()>& body);

// RunInUserNamespace for running a command: a child killed by a signal gives 128 + the signal
// number (as shells report it), so an error always means that body did not run.
[[nodiscard]] Result<int> RunInUserNamespaceExitCode(const std::vector<IdRange>& uid_map,
                                                     const std::vector<IdRange>& gid_map,
                                                     const std::function<int()>& body);

// The child's raw wait status (waitpid(2)); the other two are built on it.
[[nodiscard]] Result<int> RunInUserNamespaceWaitStatus(const std::vector<IdRange>& uid_map,
                                                       const std::vector<IdRange>& gid_map,
                                                       const std::function<int()>& body);

}  // namespace comet::image

#endif  // COMET_IMAGE_USERNS_H_
