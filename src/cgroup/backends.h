// Internal: the v1 and v2 implementations of cgroup::Manager, chosen by manager.cc.
// Not thread-safe (as Manager).
#ifndef COMET_CGROUP_BACKENDS_H_
#define COMET_CGROUP_BACKENDS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "cgroup/fs.h"
#include "cgroup/manager.h"

namespace comet::cgroup {

[[nodiscard]] Result<std::unique_ptr<Manager>> CreateV1(const Layout& layout,
                                                        const GroupPath& group);
[[nodiscard]] std::unique_ptr<Manager> OpenV1(std::map<std::string, std::string> paths);
[[nodiscard]] Result<std::unique_ptr<Manager>> CreateV2(const Layout& layout,
                                                        const GroupPath& group);
[[nodiscard]] std::unique_ptr<Manager> OpenV2(std::string dir);

// Freezes `m` when `can_freeze`, signals every task in it, thaws it: no task forks past the
// signal. A group left frozen before stays frozen unless the signal is SIGKILL.
[[nodiscard]] Status SignalAllFrozen(Manager& m, int signal, bool can_freeze);
// Calls `done` every millisecond or so (backing off to 10 ms) for up to `timeout_ms`.
[[nodiscard]] Result<bool> PollUntil(int timeout_ms, const std::function<Result<bool>()>& done);

}  // namespace comet::cgroup

#endif  // COMET_CGROUP_BACKENDS_H_
