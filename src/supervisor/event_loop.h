// The supervisor's single-threaded event loop: epoll over fds plus one-shot timers on the
// monotonic clock. Callbacks may add and remove fds and timers (including their own). Not
// thread-safe: one loop per process, used from its thread only.
#ifndef COMET_SUPERVISOR_EVENT_LOOP_H_
#define COMET_SUPERVISOR_EVENT_LOOP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::supervisor {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using FdCallback = std::function<void(uint32_t events)>;  // EPOLLIN, EPOLLOUT, EPOLLHUP...
  using TimerId = uint64_t;

  [[nodiscard]] static Result<std::unique_ptr<EventLoop>> Create();

  // Watches `fd` (owned by the caller; remove it before closing it) for `events`.
  [[nodiscard]] Status Add(int fd, uint32_t events, FdCallback callback);
  [[nodiscard]] Status Modify(int fd, uint32_t events);
  // Forgetting an fd that is not watched is fine.
  void Remove(int fd);

  TimerId AddTimer(Clock::time_point when, std::function<void()> callback);
  TimerId AddTimer(std::chrono::milliseconds after, std::function<void()> callback) {
    return AddTimer(Clock::now() + after, std::move(callback));
  }
  void CancelTimer(TimerId id);

  // Runs until Stop(); returns an error only when epoll itself fails.
  [[nodiscard]] Status Run();
  void Stop() { stopping_ = true; }

 private:
  explicit EventLoop(os::UniqueFd epoll) : epoll_(std::move(epoll)) {}
  void RunDueTimers();
  int NextTimeoutMs() const;

  os::UniqueFd epoll_;
  // shared_ptr so that a callback that removes its own fd is not destroyed while it runs.
  std::unordered_map<int, std::shared_ptr<FdCallback>> fds_;
  std::multimap<Clock::time_point, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId next_timer_ = 1;
  bool stopping_ = false;
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_EVENT_LOOP_H_
