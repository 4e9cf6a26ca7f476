// SupervisorMain; see supervisor_main.h.
#include "supervisor/supervisor_main.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/log.h"
#include "base/strings.h"
#include "pod/volatile_dir.h"
#include "supervisor/app_io.h"
#include "supervisor/control_server.h"
#include "supervisor/event_loop.h"
#include "supervisor/supervisor.h"

namespace comet::supervisor {
namespace {

constexpr const char* kLockFdEnv = "COMET_LOCK_FD";

Result<int> ParseFd(std::string_view text, std::string_view what) {
  auto value = ParseUint(text);
  if (!value || *value > 1 << 20) {
    return Err(Error::Invalid(std::string(what) + ": not a file descriptor: \"" +
                              std::string(text) + "\""));
  }
  int fd = static_cast<int>(*value);
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {  // apps must never inherit it
    return Err(Error::FromErrno("fcntl", std::string(what)));
  }
  return fd;
}

// The supervisor's own 0-2 (the user's terminal in a foreground run) moved above 2, and
// /dev/null put on 0-2, so nothing the supervisor starts writes to the terminal by accident.
Status MoveStdio(int moved[3]) {
  for (int fd = 0; fd < 3; ++fd) {
    moved[fd] = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved[fd] < 0 && errno != EBADF) {
      return Err(Error::FromErrno("dup", "stdio"));
    }
  }
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) {
    return Err(Error::FromErrno("open", "/dev/null"));
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(null, fd) < 0) {
      return Err(Error::FromErrno("dup2", "/dev/null"));
    }
  }
  ::close(null);
  return Ok();
}

void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&set, signal);
  }
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  (void)::signal(SIGPIPE, SIG_IGN);  // a gone terminal or client is an error on write, not a death
}

int Fail(const Error& error) {
  log::Error("{}", error.ToString());
  return kSupervisorFailure;
}

int RunPod(const CommandLine& line, const int moved[3]) {
  if (::chdir(line.pod_dir.c_str()) != 0) {
    return Fail(Error::FromErrno("chdir", line.pod_dir));
  }
  (void)::prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto loop = EventLoop::Create();
  if (!loop) {
    return Fail(loop.error());
  }
  ForegroundOptions foreground;
  if (line.foreground) {
    foreground = {moved[0], moved[1], moved[2]};
  }
  AppIo io(**loop, line.pod_dir, foreground);
  SupervisorOptions options;
  options.pod_dir = line.pod_dir;
  options.data_dir = line.data_dir;
  options.remove = line.remove;
  options.ready_fd = line.ready_fd;
  if (!line.foreground && line.ready_fd >= 0) {
    options.startup_log_fd = moved[2];
  }
  Supervisor supervisor(**loop, io, options);
  ControlServer control(**loop, supervisor, io, line.pod_dir);
  // The socket lives in the pod's volatile directory. Failing here is reported by Start, which
  // tries again.
  if (auto state = pod::EnsureVolatileDir(line.pod_dir); !state) {
    log::Debug("volatile directory: {}", state.error().ToString());
  }
  // Listening first lets `comet stop` reach a pod still in its init containers. Without the
  // socket the pod still runs; stop falls back to SIGTERM.
  if (auto listening = control.Listen(); !listening) {
    log::Warning("control socket: {}", listening.error().ToString());
  }
  if (supervisor.Start()) {
    if (auto run = (*loop)->Run(); !run) {
      log::Error("{}", run.error().ToString());
    }
  }
  control.Close();
  return supervisor.Finish();
}

}  // namespace

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine line;
  for (const std::string& arg : args) {
    if (StartsWith(arg, "--pod-dir=")) {
      line.pod_dir = arg.substr(10);
    } else if (StartsWith(arg, "--data-dir=")) {
      line.data_dir = arg.substr(11);
    } else if (arg == "--debug") {
      line.debug = true;
    } else if (arg == "--rm") {
      line.remove = true;
    } else if (arg == "--foreground") {
      line.foreground = true;
    } else if (StartsWith(arg, "--ready-fd=")) {
      auto fd = ParseUint(arg.substr(11));
      if (!fd || *fd < 3 || *fd > 1 << 20) {
        return Err(
            Error::Invalid("--ready-fd: invalid file descriptor \"" + arg.substr(11) + "\""));
      }
      line.ready_fd = static_cast<int>(*fd);
    } else {
      return Err(Error::Invalid("unknown argument \"" + arg + "\""));
    }
  }
  if (line.pod_dir.empty() || line.pod_dir.front() != '/') {
    return Err(Error::Invalid("--pod-dir: an absolute path is required"));
  }
  if (line.data_dir.empty() || line.data_dir.front() != '/') {
    return Err(Error::Invalid("--data-dir: an absolute path is required"));
  }
  return line;
}

void CloseInheritedFds(int lock_fd, int ready_fd) {
  unsigned int next = 3;
  for (int keep : {std::min(lock_fd, ready_fd), std::max(lock_fd, ready_fd)}) {
    if (keep < static_cast<int>(next)) {
      continue;
    }
    if (static_cast<unsigned int>(keep) > next) {
      (void)::syscall(SYS_close_range, next, static_cast<unsigned int>(keep) - 1, 0U);
    }
    next = static_cast<unsigned int>(keep) + 1;
  }
  (void)::syscall(SYS_close_range, next, ~0U, 0U);
}

int SupervisorMain(int argc, char** argv) {
  BlockSignals();
  log::Options log_options;
  log_options.program = "comet-supervisor";
  log::Configure(log_options);
  auto line = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!line) {
    return Fail(line.error());
  }
  const char* lock_text = std::getenv(kLockFdEnv);  // NOLINT(concurrency-mt-unsafe)
  if (lock_text == nullptr) {
    return Fail(Error::Invalid(std::string(kLockFdEnv) + " is not set: comet-supervisor is " +
                               "started by comet run with the pod's lock"));
  }
  auto lock_fd = ParseFd(lock_text, kLockFdEnv);
  if (!lock_fd) {
    return Fail(lock_fd.error());
  }
  ::unsetenv(kLockFdEnv);  // NOLINT(concurrency-mt-unsafe): single-threaded
  if (line->ready_fd >= 0) {
    if (auto ready = ParseFd(std::to_string(line->ready_fd), "--ready-fd"); !ready) {
      return Fail(ready.error());
    }
  }
  CloseInheritedFds(*lock_fd, line->ready_fd);
  int moved[3] = {-1, -1, -1};
  if (auto st = MoveStdio(moved); !st) {
    return Fail(st.error());
  }
  log_options.fd = moved[2] >= 0 ? moved[2] : 2;
  log_options.min_level = line->debug ? log::Level::kDebug : log::Level::kWarning;
  log::Configure(log_options);
  if (!line->foreground) {
    for (int fd : {moved[0], moved[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  return RunPod(*line, moved);
}

}  // namespace comet::supervisor
