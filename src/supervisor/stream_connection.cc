// StreamConnection: non-blocking frame I/O on one control-socket connection.
#include "supervisor/stream_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace comet::supervisor {
namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;

}  // namespace

StreamConnection::StreamConnection(EventLoop& loop, os::UniqueFd socket, size_t max_queued)
    : loop_(loop), socket_(std::move(socket)), max_queued_(max_queued) {}

StreamConnection::~StreamConnection() {
  if (registered_) {
    loop_.Remove(socket_.get());
  }
  if (fail_timer_ != 0) {
    loop_.CancelTimer(fail_timer_);
  }
  if (resume_timer_ != 0) {
    loop_.CancelTimer(resume_timer_);
  }
}

Status StreamConnection::Start(FrameHandler on_frame, CloseHandler on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  if (failed_) {
    return Ok();  // the fail timer reports the close
  }
  if (!registered_) {
    interest_ = 0;
    RETURN_IF_ERROR(
        loop_.Add(socket_.get(), EPOLLRDHUP, [this](uint32_t events) { OnEvents(events); }));
    registered_ = true;
  }
  UpdateInterest();
  return Ok();
}

void StreamConnection::UpdateInterest() {
  if (!registered_) {
    return;
  }
  uint32_t wanted = EPOLLRDHUP;
  if (on_frame_ && !closing_ && !paused_) {
    wanted |= EPOLLIN;
  }
  if (!out_.empty()) {
    wanted |= EPOLLOUT;
  }
  if (wanted != interest_) {
    if (loop_.Modify(socket_.get(), wanted)) {
      interest_ = wanted;
    }
  }
}

bool StreamConnection::Send(pod::FrameType type, std::string_view payload,
                            std::vector<os::UniqueFd> fds) {
  if (closing_ || failed_) {
    return false;
  }
  if ((!fds.empty() && !out_.empty()) || out_.size() + payload.size() + 5 > max_queued_) {
    log::Debug("control connection: output queue full, dropping the client");
    Fail();
    return false;
  }
  out_.append(pod::EncodeFrame(type, payload));
  for (os::UniqueFd& fd : fds) {
    out_fds_.push_back(std::move(fd));
  }
  if (!WriteSome()) {
    Fail();
    return false;
  }
  UpdateInterest();
  return true;
}

bool StreamConnection::WriteSome() {
  while (!out_.empty()) {
    iovec iov{out_.data(), out_.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * pod::kMaxFrameFds)> control{};
    if (!out_fds_.empty()) {
      size_t count = std::min(out_fds_.size(), pod::kMaxFrameFds);
      msg.msg_control = control.data();
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * count);
      for (size_t i = 0; i < count; ++i) {
        int fd = out_fds_[i].get();
        std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
      }
    }
    ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == EAGAIN;
    }
    out_fds_.clear();  // sent with the first byte; our copies can go
    out_.erase(0, static_cast<size_t>(n));
  }
  return true;
}

bool StreamConnection::ReadSome() {
  std::array<char, kReadChunk> buffer{};
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * pod::kMaxFrameFds)> control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n = ::recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) {
    return errno == EINTR || errno == EAGAIN;
  }
  std::vector<os::UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.emplace_back(fd);
      }
    }
  }
  if (n == 0 || (msg.msg_flags & MSG_CTRUNC) != 0) {
    return false;
  }
  decoder_.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), std::move(fds));
  return true;
}

void StreamConnection::OnEvents(uint32_t events) {
  std::weak_ptr<bool> alive = alive_;
  auto report_close = [&] {
    if (close_reported_) {
      return;
    }
    close_reported_ = true;
    failed_ = true;
    loop_.Remove(socket_.get());
    registered_ = false;
    CloseHandler handler = on_close_;
    if (handler) {
      handler();  // may destroy this
    }
  };
  if ((events & EPOLLERR) != 0) {
    report_close();
    return;
  }
  if ((events & EPOLLOUT) != 0 && !WriteSome()) {
    report_close();
    return;
  }
  const bool reading = on_frame_ && !closing_ && !paused_;
  if ((events & EPOLLIN) != 0 && reading) {
    if (!ReadSome()) {
      report_close();
      return;
    }
    if (!DeliverFrames()) {
      return;
    }
  } else if ((events & (EPOLLHUP | EPOLLRDHUP)) != 0 && !reading) {
    report_close();  // not reading: a hang-up ends it
    return;
  }
  if (closing_ && out_.empty()) {
    report_close();
    return;
  }
  UpdateInterest();
}

bool StreamConnection::DeliverFrames() {
  std::weak_ptr<bool> alive = alive_;
  while (on_frame_ && !closing_ && !failed_ && !paused_) {
    auto next = decoder_.Next();
    if (!next) {
      log::Debug("control connection: {}", next.error().ToString());
      Fail();
      return false;
    }
    if (!*next) {
      break;
    }
    FrameHandler handler = on_frame_;
    handler(std::move(**next));
    if (alive.expired()) {
      return false;
    }
  }
  return !failed_;
}

void StreamConnection::PauseReading(bool paused) {
  if (paused_ == paused || failed_) {
    return;
  }
  paused_ = paused;
  UpdateInterest();
  if (paused || resume_timer_ != 0) {
    return;
  }
  // Frames already decoded would wait for the peer's next bytes: hand them on from the loop
  // (never inside the caller's stack).
  std::weak_ptr<bool> alive = alive_;
  resume_timer_ = loop_.AddTimer(std::chrono::milliseconds(0), [this, alive] {
    if (alive.expired()) {
      return;
    }
    resume_timer_ = 0;
    if (DeliverFrames()) {
      UpdateInterest();
    }
  });
}

void StreamConnection::CloseAfterFlush() {
  if (closing_ || failed_) {
    return;
  }
  closing_ = true;
  if (out_.empty()) {
    Fail();  // nothing to flush: report the close from the loop
    return;
  }
  UpdateInterest();
}

void StreamConnection::FlushNow() {
  (void)WriteSome();
}

void StreamConnection::Fail() {
  if (fail_timer_ != 0 || close_reported_) {
    return;
  }
  failed_ = true;
  if (registered_) {
    loop_.Remove(socket_.get());
    registered_ = false;
  }
  std::weak_ptr<bool> alive = alive_;
  fail_timer_ = loop_.AddTimer(std::chrono::milliseconds(0), [this, alive] {
    if (alive.expired()) {
      return;
    }
    fail_timer_ = 0;
    if (close_reported_) {
      return;
    }
    close_reported_ = true;
    CloseHandler handler = on_close_;
    if (handler) {
      handler();
    }
  });
}

}  // namespace comet::supervisor
