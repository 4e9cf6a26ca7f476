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

constexpr std::array<int, 8> kForwarded = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                                           SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};

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

// Moves what is readable from `from` to `to`; false at end of input.
bool Relay(int from, int to) {
  char buffer[8192];
  ssize_t n = ::read(from, buffer, sizeof(buffer));
  if (n <= 0) {
    return n < 0 && (errno == EINTR || errno == EAGAIN);
  }
  (void)os::WriteAll(to, std::string_view(buffer, static_cast<size_t>(n)));
  return true;
}

}  // namespace

Result<int> SuperviseForeground(pid_t pid, os::UniqueFd console) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) {
    sigaddset(&set, sig);
  }
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &set, &previous);
  ScopeExit restore_mask([&previous] { ::sigprocmask(SIG_SETMASK, &previous, nullptr); });
  os::UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals) {
    return Err(Error::FromErrno("signalfd"));
  }
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
  bool stdin_open = console.valid();
  bool console_open = console.valid();
  std::optional<int> code = ReapChildren(pid);
  while (!code) {
    std::array<struct pollfd, 3> fds{};
    fds[0] = {signals.get(), POLLIN, 0};
    fds[1] = {stdin_open ? 0 : -1, POLLIN, 0};
    fds[2] = {console_open ? console.get() : -1, POLLIN, 0};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      return Err(Error::FromErrno("poll"));
    }
    if ((fds[0].revents & POLLIN) != 0) {
      struct signalfd_siginfo info {};
      if (::read(signals.get(), &info, sizeof(info)) == sizeof(info)) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          code = ReapChildren(pid);
        } else if (sig == SIGWINCH && console) {
          CopyWindowSize(0, console.get());
        } else if (sig != SIGWINCH) {
          ::kill(pid, sig);
        }
      }
    }
    if (fds[1].revents != 0) {
      stdin_open = Relay(0, console.get());
    }
    if (fds[2].revents != 0) {
      console_open = Relay(console.get(), 1);
    }
  }
  if (console_open) {
    int flags = ::fcntl(console.get(), F_GETFL);
    ::fcntl(console.get(), F_SETFL, flags | O_NONBLOCK);
    char buffer[8192];
    ssize_t n = 0;
    while ((n = ::read(console.get(), buffer, sizeof(buffer))) > 0) {
      (void)os::WriteAll(1, std::string_view(buffer, static_cast<size_t>(n)));
    }
  }
  return *code;
}

Result<int> Run(const GlobalOptions& global, const RunOptions& options) {
  RuntimeContext context = MakeContext(global);
  ASSIGN_OR_RETURN(Created created, CreateContainer(context, options.create, !options.detach));
  if (auto started = StartContainer(context, created.record); !started) {
    (void)DestroyContainer(context, created.record);
    return Err(std::move(started).error());
  }
  if (options.detach) {
    return 0;
  }
  auto code = SuperviseForeground(created.record.pid, std::move(created.console));
  if (!options.keep) {
    RETURN_IF_ERROR(DestroyContainer(context, created.record));
  }
  return code;
}

}  // namespace comet::runtime
