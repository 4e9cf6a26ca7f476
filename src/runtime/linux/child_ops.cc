// Allocation-free helpers for the setup processes.
#include "runtime/linux/child_ops.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace comet::runtime {
namespace {

size_t Append(char* buffer, size_t size, size_t used, const char* text) noexcept {
  while (used + 1 < size && *text != '\0') {
    buffer[used++] = *text++;
  }
  buffer[used] = '\0';
  return used;
}

size_t AppendNumber(char* buffer, size_t size, size_t used, long value) noexcept {
  char digits[24];
  size_t n = 0;
  bool negative = value < 0;
  unsigned long magnitude =
      negative ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0 && n < sizeof(digits));
  if (negative) {
    used = Append(buffer, size, used, "-");
  }
  while (n > 0 && used + 1 < size) {
    buffer[used++] = digits[--n];
  }
  buffer[used] = '\0';
  return used;
}

bool IsExecutableFile(const char* path) noexcept {
  struct stat st {};
  return ::stat(path, &st) == 0 && S_ISREG(st.st_mode) && ::access(path, X_OK) == 0;
}

}  // namespace

void WriteReportToStderr(const ChildReport& report) noexcept {
  WriteReport(2, report, "comet-runtime: ");
}

void WriteReport(int fd, const ChildReport& report, const char* prefix) noexcept {
  static char line[sizeof(ChildReport::detail) + 256];
  size_t used = Append(line, sizeof(line), 0, prefix);
  used = Append(line, sizeof(line), used, report.stage);
  if (report.detail[0] != '\0') {
    used = Append(line, sizeof(line), used, " ");
    used = Append(line, sizeof(line), used, report.detail);
  }
  if (report.err != 0) {
    used = Append(line, sizeof(line), used, ": ");
    const char* text = ::strerrordesc_np(report.err);
    used = Append(line, sizeof(line), used, text != nullptr ? text : "unknown error");
  }
  used = Append(line, sizeof(line), used, "\n");
  (void)!::write(fd, line, used);
}

const char* NamespaceName(int nstype) noexcept {
  switch (nstype) {
    case CLONE_NEWUSER:
      return "user namespace";
    case CLONE_NEWNS:
      return "mount namespace";
    case CLONE_NEWPID:
      return "pid namespace";
    case CLONE_NEWNET:
      return "network namespace";
    case CLONE_NEWIPC:
      return "ipc namespace";
    case CLONE_NEWUTS:
      return "uts namespace";
    case CLONE_NEWCGROUP:
      return "cgroup namespace";
    case CLONE_NEWTIME:
      return "time namespace";
    default:
      return "namespace";
  }
}

void FormatFdPath(char* buffer, size_t size, int fd) noexcept {
  size_t used = Append(buffer, size, 0, "/proc/self/fd/");
  AppendNumber(buffer, size, used, fd);
}

int RunHookProcess(const HookPlan& hook, int state_fd) noexcept {
  pid_t pid = ::fork();
  if (pid < 0) {
    return -errno;
  }
  if (pid == 0) {
    ResetSignals();
    if (state_fd >= 0) {
      ::dup2(state_fd, 0);
      ::lseek(0, 0, SEEK_SET);
    }
    ::execve(hook.path.c_str(), hook.argv.get(), hook.envp.get());
    ::_exit(127);
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0 && hook.timeout_seconds > 0) {
    struct pollfd pfd {};
    pfd.fd = pidfd;
    pfd.events = POLLIN;
    int ready = 0;
    while ((ready = ::poll(&pfd, 1, hook.timeout_seconds * 1000)) < 0 && errno == EINTR) {
    }
    if (ready == 0) {
      ::kill(pid, SIGKILL);
    }
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -errno;
    }
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}

const char* ResolveExecutable(const ProcessPlan& process) noexcept {
  for (const std::string& candidate : process.exec_candidates) {
    if (IsExecutableFile(candidate.c_str())) {
      return candidate.c_str();
    }
  }
  return nullptr;
}

void ResetSignals() noexcept {
  sigset_t none;
  sigemptyset(&none);
  // pthread_sigmask, not sigprocmask: the same call in this single-threaded child, but
  // specified for threaded processes and async-signal-safe (POSIX.1-2008).
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGPIPE, &action, nullptr);
}

int MakeDirs(const char* path) noexcept {
  static char buffer[4096];
  size_t length = ::strnlen(path, sizeof(buffer));
  if (length >= sizeof(buffer)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(buffer, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (buffer[i] == '/' || buffer[i] == '\0') {
      char saved = buffer[i];
      buffer[i] = '\0';
      if (::mkdir(buffer, 0755) != 0 && errno != EEXIST) {
        return -1;
      }
      buffer[i] = saved;
    }
  }
  return 0;
}

}  // namespace comet::runtime
