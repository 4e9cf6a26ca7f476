// Foreground supervision for `run` and `exec` without --detach: wait for the process, forward
// signals to it, reap orphans (this process is a child subreaper), and relay a pty.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <optional>

#include "base/scope_exit.h"
#include "os/file.h"
#include "runtime/container_ops.h"

namespace comet::runtime {
namespace {

constexpr size_t kMaxPending = 64U << 10;

int ExitCode(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 255;
}

// Reaps every exited child; returns the exit code of `pid` once it is among them.
std::optional<int> ReapChildren(pid_t pid) {
  std::optional<int> code;
  while (true) {
    int status = 0;
    pid_t reaped = ::waitpid(-1, &status, WNOHANG);
    if (reaped <= 0) {
      return code;
    }
    if (reaped == pid) {
      code = ExitCode(status);
    }
  }
}

void CopyWindowSize(int from, int to) {
  struct winsize size {};
  if (::ioctl(from, TIOCGWINSZ, &size) == 0) {
    ::ioctl(to, TIOCSWINSZ, &size);
  }
}

// Reads what is there; false at end of input (EOF, or EIO once the pty's last user is gone).
bool ReadSome(int fd, std::string* out) {
  char buffer[8192];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n > 0) {
    out->append(buffer, static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// Writes as much of `pending` as `fd` takes without blocking.
void WriteSome(int fd, std::string* pending) {
  ssize_t n = ::write(fd, pending->data(), pending->size());
  if (n > 0) {
    pending->erase(0, static_cast<size_t>(n));
  } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
    pending->clear();  // the terminal is gone; drop what it would never read
  }
}

// Copies between this process's stdio and a container's pty without ever blocking on the pty,
// so signals and output keep flowing when the container stops reading its input.
class PtyRelay {
 public:
  explicit PtyRelay(os::UniqueFd console) : console_(std::move(console)) {
    if (console_) {
      ::fcntl(console_.get(), F_SETFL, ::fcntl(console_.get(), F_GETFL) | O_NONBLOCK);
      stdin_open_ = true;
      console_open_ = true;
    }
  }
  [[nodiscard]] int console() const { return console_.get(); }

  void FillPollFds(struct pollfd* in, struct pollfd* pty) const {
    *in = {stdin_open_ && to_console_.size() < kMaxPending ? 0 : -1, POLLIN, 0};
    short events = console_open_ ? POLLIN : 0;
    if (console_open_ && !to_console_.empty()) {
      events = static_cast<short>(events | POLLOUT);
    }
    *pty = {console_open_ ? console_.get() : -1, events, 0};
  }

  void Handle(const struct pollfd& in, const struct pollfd& pty) {
    if (in.revents != 0) {
      stdin_open_ = ReadSome(0, &to_console_);
    }
    if ((pty.revents & POLLOUT) != 0) {
      WriteSome(console_.get(), &to_console_);
    }
    if ((pty.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      std::string out;
      console_open_ = ReadSome(console_.get(), &out);
      (void)os::WriteAll(1, out);
    }
  }

  // After the process exited: what it wrote last.
  void Drain() {
    std::string out;
    while (console_open_ && ReadSome(console_.get(), &out) && !out.empty()) {
      (void)os::WriteAll(1, out);
      out.clear();
    }
  }

 private:
  os::UniqueFd console_;
  bool stdin_open_ = false;
  bool console_open_ = false;
  std::string to_console_;
};

}  // namespace

Result<os::UniqueFd> BlockForwardedSignals() {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, SIGKILL);
  sigdelset(&set, SIGSTOP);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A closed stdout must not kill the runtime while the container runs.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);
  os::UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals) {
    return Err(Error::FromErrno("signalfd"));
  }
  return signals;
}

Result<int> SuperviseForeground(pid_t pid, os::UniqueFd console, os::UniqueFd signals) {
  std::optional<struct termios> saved_termios;
  if (console && ::isatty(0) != 0) {
    struct termios raw {};
    if (::tcgetattr(0, &raw) == 0) {
      saved_termios = raw;
      ::cfmakeraw(&raw);
      ::tcsetattr(0, TCSANOW, &raw);
    }
    CopyWindowSize(0, console.get());
  }
  ScopeExit restore_tty([&saved_termios] {
    if (saved_termios) {
      ::tcsetattr(0, TCSANOW, &*saved_termios);
    }
  });
  PtyRelay relay(std::move(console));
  std::optional<int> code = ReapChildren(pid);
  while (!code) {
    std::array<struct pollfd, 3> fds{};
    fds[0] = {signals.get(), POLLIN, 0};
    relay.FillPollFds(&fds[1], &fds[2]);
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      return Err(Error::FromErrno("poll"));
    }
    if ((fds[0].revents & POLLIN) != 0) {
      struct signalfd_siginfo info {};
      if (::read(signals.get(), &info, sizeof(info)) == sizeof(info)) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          code = ReapChildren(pid);
        } else if (sig == SIGWINCH) {
          if (relay.console() >= 0) {
            CopyWindowSize(0, relay.console());
          }
        } else if (sig != SIGURG && sig != SIGPIPE) {
          ::kill(pid, sig);
        }
      }
    }
    relay.Handle(fds[1], fds[2]);
  }
  relay.Drain();
  return *code;
}

Result<int> Run(const GlobalOptions& global, const RunOptions& options) {
  RuntimeContext context = MakeContext(global);
  // Signals are blocked before anything starts, so that one arriving during create is
  // forwarded to the container (or ends the wait) instead of killing us half-way.
  os::UniqueFd signals;
  if (!options.detach) {
    ASSIGN_OR_RETURN(signals, BlockForwardedSignals());
  }
  ASSIGN_OR_RETURN(Created created, CreateContainer(context, options.create, !options.detach));
  // The caller's spec, when it gave one, has the hooks; else they are read from the saved copy.
  const oci::Hooks no_hooks;
  const oci::Spec* spec = options.create.spec;
  const oci::Hooks* hooks = spec == nullptr ? nullptr : (spec->hooks ? &*spec->hooks : &no_hooks);
  if (auto started = StartContainer(context, created.record, hooks); !started) {
    (void)DestroyContainer(context, created.record, hooks);
    return Err(std::move(started).error());
  }
  if (options.detach) {
    return 0;
  }
  auto code =
      SuperviseForeground(created.record.pid, std::move(created.console), std::move(signals));
  if (!options.keep) {
    RETURN_IF_ERROR(DestroyContainer(context, created.record, hooks));
  }
  return code;
}

}  // namespace comet::runtime
