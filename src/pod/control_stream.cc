// The streaming client calls: `comet exec`/`enter` (ExecInApp) and `comet attach` (AttachToApp).
// Blocking poll(2) loops in the calling thread; the local terminal is put in raw mode only while
// a pty is copied and restored on every way out (RAII). SIGWINCH is taken through a signalfd.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "os/file.h"
#include "pod/control.h"

namespace comet::pod {
namespace {

constexpr size_t kCopyBuffer = size_t{32} * 1024;

// Raw mode on a terminal for as long as it lives.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) {
    if (::isatty(fd) != 1 || ::tcgetattr(fd, &saved_) != 0) {
      return;
    }
    termios raw = saved_;
    ::cfmakeraw(&raw);
    if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) {
      fd_ = fd;
    }
  }
  ~RawTerminal() {
    if (fd_ >= 0) {
      (void)::tcsetattr(fd_, TCSADRAIN, &saved_);
    }
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  RawTerminal(RawTerminal&&) = delete;
  RawTerminal& operator=(RawTerminal&&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

// SIGWINCH delivered through a signalfd while it lives (the previous mask comes back after).
class WinchWatcher {
 public:
  WinchWatcher() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (::pthread_sigmask(SIG_BLOCK, &set, &old_) != 0) {
      return;
    }
    blocked_ = true;
    fd_.Reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~WinchWatcher() {
    if (blocked_) {
      (void)::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
  }
  WinchWatcher(const WinchWatcher&) = delete;
  WinchWatcher& operator=(const WinchWatcher&) = delete;
  WinchWatcher(WinchWatcher&&) = delete;
  WinchWatcher& operator=(WinchWatcher&&) = delete;

  [[nodiscard]] int fd() const { return fd_.get(); }
  void Drain() {
    signalfd_siginfo info{};
    while (::read(fd_.get(), &info, sizeof(info)) > 0) {
    }
  }

 private:
  os::UniqueFd fd_;
  sigset_t old_{};
  bool blocked_ = false;
};

std::optional<WindowSize> TerminalSize(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) {
    return std::nullopt;
  }
  return WindowSize{ws.ws_row, ws.ws_col};
}

// Reads what is available on the control socket into `decoder`; false at end of stream.
Result<bool> ReadInto(int socket, FrameDecoder* decoder) {
  std::array<char, kCopyBuffer> buffer{};
  ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) {
      return true;
    }
    return Err(Error::FromErrno("recv", "control socket"));
  }
  decoder->Feed(std::string_view(buffer.data(), static_cast<size_t>(n)));
  return n > 0;
}

Error ClosedEarly() {
  return {ECONNRESET, "the supervisor closed the connection before the process exited"};
}

// Copies whatever the pty master still holds to `out` (after the process exited).
void DrainMaster(int master, int out) {
  std::array<char, kCopyBuffer> buffer{};
  int flags = ::fcntl(master, F_GETFL);
  (void)::fcntl(master, F_SETFL, flags | O_NONBLOCK);
  ssize_t n = 0;
  while ((n = ::read(master, buffer.data(), buffer.size())) > 0) {
    (void)os::WriteAll(out, std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
}

// Copies one chunk from `from` to `to`; false at end of input or on an error (EAGAIN is not).
bool CopyChunk(int from, int to) {
  std::array<char, kCopyBuffer> buffer{};
  ssize_t n = ::read(from, buffer.data(), buffer.size());
  if (n > 0) {
    return os::WriteAll(to, std::string_view(buffer.data(), static_cast<size_t>(n))).has_value();
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// Handles what the supervisor sent: output to stdout/stderr, and kExit (its code; the pty master,
// when there is one, is drained first). nullopt: go on.
Result<std::optional<int>> OnSocketReadable(int socket, FrameDecoder* decoder,
                                            const StreamOptions& options, int master) {
  ASSIGN_OR_RETURN(bool open, ReadInto(socket, decoder));
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Frame> frame, decoder->Next());
    if (!frame) {
      break;
    }
    if (frame->type == FrameType::kStdout) {
      RETURN_IF_ERROR(os::WriteAll(options.stdout_fd, frame->payload));
    } else if (frame->type == FrameType::kStderr) {
      RETURN_IF_ERROR(os::WriteAll(options.stderr_fd, frame->payload));
    } else if (frame->type == FrameType::kExit) {
      if (master >= 0) {
        DrainMaster(master, options.stdout_fd);
      }
      ASSIGN_OR_RETURN(int code, DecodeExit(frame->payload));
      return std::optional<int>(code);
    }
  }
  if (!open) {
    return Err(ClosedEarly());
  }
  return std::optional<int>();
}

int PollOrRetry(std::array<pollfd, 4>* fds) {
  int n = ::poll(fds->data(), fds->size(), -1);
  return n < 0 && errno == EINTR ? 0 : n;
}

Result<int> CopyPty(int socket, int master, const ExecRequest& request,
                    const StreamOptions& options) {
  std::optional<RawTerminal> raw;
  if (request.interactive) {
    raw.emplace(options.stdin_fd);
  }
  WinchWatcher winch;
  bool stdin_open = request.interactive;
  bool master_open = true;
  FrameDecoder decoder;
  while (true) {
    std::array<pollfd, 4> fds{};
    fds[0] = {socket, POLLIN, 0};
    fds[1] = {master_open ? master : -1, POLLIN, 0};
    fds[2] = {stdin_open ? options.stdin_fd : -1, POLLIN, 0};
    fds[3] = {winch.fd(), POLLIN, 0};
    if (PollOrRetry(&fds) < 0) {
      return Err(Error::FromErrno("poll", "exec"));
    }
    if (fds[1].revents != 0) {
      master_open = CopyChunk(master, options.stdout_fd);  // EIO: every slave fd is closed
    }
    if (fds[2].revents != 0 && !CopyChunk(options.stdin_fd, master)) {
      stdin_open = false;
      char eof = 0x04;  // the terminal's EOF character ends the process's read
      (void)!::write(master, &eof, 1);
    }
    if (fds[3].revents != 0) {
      winch.Drain();
      if (auto size = TerminalSize(options.stdout_fd)) {
        winsize ws{size->rows, size->cols, 0, 0};
        (void)::ioctl(master, TIOCSWINSZ, &ws);
      }
    }
    if (fds[0].revents != 0) {
      ASSIGN_OR_RETURN(std::optional<int> code,
                       OnSocketReadable(socket, &decoder, options, master));
      if (code) {
        return *code;
      }
    }
  }
}

// Watches typed bytes for the detach sequence, holding back a matching prefix.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::string keys) : keys_(std::move(keys)) {}
  // Returns the bytes to forward; sets *detach when the whole sequence was typed.
  std::string Feed(std::string_view input, bool* detach) {
    std::string out;
    for (char c : input) {
      if (keys_.empty()) {
        out.push_back(c);
        continue;
      }
      if (c == keys_[matched_]) {
        if (++matched_ == keys_.size()) {
          *detach = true;
          return out;
        }
        continue;
      }
      out.append(keys_, 0, matched_);
      matched_ = 0;
      if (c == keys_[0]) {
        matched_ = 1;
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

 private:
  std::string keys_;
  size_t matched_ = 0;
};

// Forwards one chunk of stdin as kStdin (kStdinClose at its end). True: the detach keys.
// Sends stdin to the supervisor. It may have sent kExit and closed the connection already (the
// process exited without reading all of it): then stdin is done, and what is left to read on
// the socket says how the process ended.
Status SendStdin(int socket, FrameType type, std::string_view data, bool* stdin_open) {
  auto sent = WriteFrame(socket, type, data);
  if (!sent && (sent.error().code() == EPIPE || sent.error().code() == ECONNRESET)) {
    *stdin_open = false;
    return Ok();
  }
  return sent;
}

Result<bool> ForwardStdin(int socket, const StreamOptions& options, DetachMatcher* matcher,
                          bool* stdin_open) {
  std::array<char, kCopyBuffer> buffer{};
  ssize_t n = ::read(options.stdin_fd, buffer.data(), buffer.size());
  if (n > 0) {
    bool detach = false;
    std::string out =
        matcher->Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), &detach);
    if (!out.empty()) {
      RETURN_IF_ERROR(SendStdin(socket, FrameType::kStdin, out, stdin_open));
    }
    return detach;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return false;
  }
  *stdin_open = false;
  RETURN_IF_ERROR(SendStdin(socket, FrameType::kStdinClose, "", stdin_open));
  return false;
}

Status SendSize(int socket, int terminal) {
  if (auto size = TerminalSize(terminal)) {
    return WriteFrame(socket, FrameType::kResize, EncodeResize(*size));
  }
  return Ok();
}

Result<std::optional<int>> AttachLoop(int socket, bool tty, bool attach_stdin,
                                      const std::string& keys, const StreamOptions& options) {
  std::optional<RawTerminal> raw;
  std::optional<WinchWatcher> winch;
  if (tty) {
    if (attach_stdin) {
      raw.emplace(options.stdin_fd);
    }
    winch.emplace();
    RETURN_IF_ERROR(SendSize(socket, options.stdout_fd));
  }
  DetachMatcher matcher(keys);
  bool stdin_open = attach_stdin;
  FrameDecoder decoder;
  while (true) {
    std::array<pollfd, 4> fds{};
    fds[0] = {socket, POLLIN, 0};
    fds[1] = {stdin_open ? options.stdin_fd : -1, POLLIN, 0};
    fds[2] = {winch ? winch->fd() : -1, POLLIN, 0};
    fds[3] = {-1, 0, 0};
    if (PollOrRetry(&fds) < 0) {
      return Err(Error::FromErrno("poll", "attach"));
    }
    if (fds[1].revents != 0) {
      ASSIGN_OR_RETURN(bool detach, ForwardStdin(socket, options, &matcher, &stdin_open));
      if (detach) {
        return std::optional<int>();
      }
    }
    if (fds[2].revents != 0) {
      winch->Drain();
      RETURN_IF_ERROR(SendSize(socket, options.stdout_fd));
    }
    if (fds[0].revents != 0) {
      ASSIGN_OR_RETURN(std::optional<int> code, OnSocketReadable(socket, &decoder, options, -1));
      if (code) {
        return code;
      }
    }
  }
}

}  // namespace

Result<int> ExecInApp(const std::string& pod_dir, const std::string& app,
                      const ExecRequest& request, const StreamOptions& options) {
  ControlRequest control;
  control.op = ControlOp::kExec;
  control.app = app;
  control.exec = request;
  if (request.tty && control.exec.rows == 0) {
    if (auto size = TerminalSize(options.stdout_fd)) {
      control.exec.rows = size->rows;
      control.exec.cols = size->cols;
    }
  }
  ASSIGN_OR_RETURN(os::UniqueFd socket, ConnectControl(pod_dir, options.reply_timeout));
  RETURN_IF_ERROR(WriteFrame(socket.get(), FrameType::kRequest, EncodeRequest(control)));
  Frame frame;
  RETURN_IF_ERROR(AwaitReply(socket.get(), options.reply_timeout, &frame));
  if (request.tty) {
    if (frame.fds.size() != 1) {
      return Err(Error(EPROTO, "control socket: the exec reply carries no pty"));
    }
    return CopyPty(socket.get(), frame.fds[0].get(), request, options);
  }
  // Our own fds never go into the container (a process there could reopen them through
  // /proc/<pid>/fd with other flags): its output comes back as frames, stdin goes as frames.
  ASSIGN_OR_RETURN(std::optional<int> code,
                   AttachLoop(socket.get(), false, request.interactive, "", options));
  if (!code) {
    return Err(ClosedEarly());  // cannot happen: no detach keys
  }
  return *code;
}

Result<std::optional<int>> AttachToApp(const std::string& pod_dir, const std::string& app,
                                       bool attach_stdin, const StreamOptions& options) {
  ASSIGN_OR_RETURN(std::string keys, ParseDetachKeys(options.detach_keys));
  ASSIGN_OR_RETURN(os::UniqueFd socket, ConnectControl(pod_dir, options.reply_timeout));
  ControlRequest control;
  control.op = ControlOp::kAttach;
  control.app = app;
  control.attach_stdin = attach_stdin;
  RETURN_IF_ERROR(WriteFrame(socket.get(), FrameType::kRequest, EncodeRequest(control)));
  Frame reply_frame;
  ASSIGN_OR_RETURN(ControlReply reply,
                   AwaitReply(socket.get(), options.reply_timeout, &reply_frame));
  return AttachLoop(socket.get(), reply.tty, attach_stdin, keys, options);
}

}  // namespace comet::pod
