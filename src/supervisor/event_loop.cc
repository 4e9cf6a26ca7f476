// EventLoop: epoll(7) plus a sorted map of timers.
#include "supervisor/event_loop.h"

#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

namespace comet::supervisor {

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("epoll_create1", ""));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(os::UniqueFd(fd)));
}

Status EventLoop::Add(int fd, uint32_t events, FdCallback callback) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return Err(Error::FromErrno("epoll_ctl add", std::to_string(fd)));
  }
  fds_[fd] = std::make_shared<FdCallback>(std::move(callback));
  return Ok();
}

Status EventLoop::Modify(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0) {
    return Err(Error::FromErrno("epoll_ctl mod", std::to_string(fd)));
  }
  return Ok();
}

void EventLoop::Remove(int fd) {
  if (fds_.erase(fd) != 0) {
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  }
}

EventLoop::TimerId EventLoop::AddTimer(Clock::time_point when, std::function<void()> callback) {
  TimerId id = next_timer_++;
  timers_.emplace(when, std::make_pair(id, std::move(callback)));
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  auto it = std::find_if(timers_.begin(), timers_.end(),
                         [id](const auto& entry) { return entry.second.first == id; });
  if (it != timers_.end()) {
    timers_.erase(it);
  }
}

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) {
    return -1;
  }
  auto wait = timers_.begin()->first - Clock::now();
  if (wait <= Clock::duration::zero()) {
    return 0;
  }
  // Round up so that a timer is never run early.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<int64_t>(ms, int64_t{60} * 60 * 1000));
}

void EventLoop::RunDueTimers() {
  Clock::time_point now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now && !stopping_) {
    std::function<void()> callback = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    callback();
  }
}

Status EventLoop::Run() {
  std::array<epoll_event, 16> events{};
  while (!stopping_) {
    int count =
        ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), NextTimeoutMs());
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("epoll_wait", ""));
    }
    for (int i = 0; i < count && !stopping_; ++i) {
      auto it = fds_.find(events[static_cast<size_t>(i)].data.fd);
      if (it == fds_.end()) {
        continue;  // removed by an earlier callback of this round
      }
      std::shared_ptr<FdCallback> callback = it->second;
      (*callback)(events[static_cast<size_t>(i)].events);
    }
    RunDueTimers();
  }
  return Ok();
}

}  // namespace comet::supervisor
