// Exec'ing comet-supervisor, in the foreground or detached behind a ready pipe.
#include "cli/pod_launch.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace comet::cli {
namespace {

constexpr const char* kLockFdEnv = "COMET_LOCK_FD";
// The ready message is one short line ("ok" or "error: <message>").
constexpr size_t kMaxReadyBytes = 64 << 10;

// glibc's per-thread cache holds up to 7 freed chunks of every small size outside the heap's free
// lists, where malloc_trim cannot reach them: after the setup they pinned ≈ 100 KiB of each idle
// supervisor's heap. The supervisor allocates little, so it goes without; tunables are read only
// at exec, hence here. (A user's own GLIBC_TUNABLES are kept; the last setting of a name wins.)
constexpr std::string_view kTunablesPrefix = "GLIBC_TUNABLES=";
constexpr std::string_view kNoThreadCache = "glibc.malloc.tcache_count=0";

std::vector<std::string> SupervisorEnv(int lock_fd) {
  std::vector<std::string> env;
  const std::string prefix = std::string(kLockFdEnv) + "=";
  bool tunables = false;
  for (char** e = environ; *e != nullptr; ++e) {
    if (StartsWith(*e, kTunablesPrefix)) {
      tunables = true;
      const bool empty = std::string_view(*e).size() == kTunablesPrefix.size();
      env.push_back(fmt::format("{}{}{}", *e, empty ? "" : ":", kNoThreadCache));
    } else if (!StartsWith(*e, prefix)) {
      env.emplace_back(*e);
    }
  }
  if (!tunables) {
    env.push_back(fmt::format("{}{}", kTunablesPrefix, kNoThreadCache));
  }
  env.push_back(prefix + std::to_string(lock_fd));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

Status ClearCloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
    return Err(Error::FromErrno("fcntl", "lock fd"));
  }
  return Ok();
}

// Closes every fd from 3 up except `a` and `b` (both >= 3): the pod's supervisor lives as long
// as the pod, and an fd its caller left open (the pipe of `id=$(comet run -d ...)`) would keep
// the caller waiting for end of file that long. Async-signal-safe.
void CloseAllBut(int a, int b) {
  const auto low = static_cast<unsigned int>(a < b ? a : b);
  const auto high = static_cast<unsigned int>(a < b ? b : a);
  (void)::syscall(SYS_close_range, 3U, low - 1, 0U);
  if (high > low + 1) {
    (void)::syscall(SYS_close_range, low + 1, high - 1, 0U);
  }
  (void)::syscall(SYS_close_range, high + 1, ~0U, 0U);
}

// The detached child, between fork and exec: async-signal-safe calls only, on data prepared
// by the parent. Its stderr is `log_fd`, which the parent relays until the ready line. Reports
// an exec failure on the ready pipe with a fixed-form message.
[[noreturn]] void DetachedChild(const char* binary, char** argv, char** envp, int lock_fd,
                                int ready_fd, int log_fd, const char* failure) {
  if (::setsid() < 0) {
    ::_exit(127);
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(devnull, 1) < 0 || ::dup2(log_fd, 2) < 0) {
    ::_exit(127);
  }
  CloseAllBut(lock_fd, ready_fd);
  const int flags = ::fcntl(ready_fd, F_GETFD);
  if (flags >= 0) {
    (void)::fcntl(ready_fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  ::execve(binary, argv, envp);
  const int saved = errno;
  (void)!::write(ready_fd, failure, std::strlen(failure));
  // strerrordesc_np (glibc >= 2.32) reads a static table: no locale, no allocation, unlike
  // strerror, which is not async-signal-safe.
  const char* reason = ::strerrordesc_np(saved);
  if (reason != nullptr) {
    (void)!::write(ready_fd, reason, std::strlen(reason));
  } else {
    char number[16];
    size_t at = sizeof(number);
    for (auto value = static_cast<unsigned int>(saved); at == sizeof(number) || value != 0;
         value /= 10) {
      number[--at] = static_cast<char>('0' + value % 10);
    }
    (void)!::write(ready_fd, "errno ", 6);
    (void)!::write(ready_fd, number + at, sizeof(number) - at);
  }
  (void)!::write(ready_fd, "\n", 1);
  ::_exit(127);
}

// Copies what the detached supervisor logged before its ready line (warnings such as limits it
// could not apply) to our stderr. Everything it wrote before that line is in the (non-blocking)
// pipe already; whatever it writes later is not waited for.
void RelayStartupLog(int fd) {
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      (void)os::WriteAll(2, std::string_view(buf, static_cast<size_t>(n)));
    }
  }
}

// What the detached supervisor said on its ready pipe.
Status ReadReady(int fd, LaunchResult& result) {
  // Up to the first newline: the supervisor may keep the pipe open by mistake after its line.
  std::string text;
  char buf[512];
  while (text.find('\n') == std::string::npos && text.size() < kMaxReadyBytes) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Err(Error::FromErrno("read", "the supervisor's ready pipe"));
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  text = text.substr(0, text.find('\n'));
  std::string line(TrimSpace(text));
  constexpr std::string_view kExecFailed = "exec-failed: ";
  if (StartsWith(line, kExecFailed)) {
    return Err(Error::Invalid(line.substr(kExecFailed.size())));
  }
  result.started = true;
  if (line == "ok") {
    return Ok();
  }
  if (StartsWith(line, "error: ")) {
    return Err(Error::Invalid(line.substr(7)));
  }
  if (line.empty()) {
    return Err(Error::Invalid("the pod's supervisor exited before the pod was ready"));
  }
  return Err(Error::Invalid(fmt::format("the pod's supervisor said {:?}", line)));
}

}  // namespace

Result<std::string> HelperBinary(const char* env_var, std::string_view name,
                                 std::string_view what) {
  std::string binary;
  if (const char* env = std::getenv(env_var);  // NOLINT(concurrency-mt-unsafe)
      env != nullptr && env[0] != '\0') {
    binary = env;
  } else {
    std::string self(4096, '\0');
    const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    if (n < 0) {
      return Err(Error::FromErrno("readlink", "/proc/self/exe"));
    }
    self.resize(static_cast<size_t>(n));
    binary = os::JoinPath(self.substr(0, self.rfind('/')), name);
  }
  if (::access(binary.c_str(), X_OK) != 0) {
    const int code = errno;
    return Err(Error(code, fmt::format("{} {} (set {} to its path)", what, binary, env_var),
                     /*os_cause=*/true));
  }
  return binary;
}

Result<std::string> SupervisorBinary() {
  return HelperBinary("COMET_SUPERVISOR", "comet-supervisor", "pod supervisor");
}

std::vector<std::string> SupervisorArgv(const SupervisorLaunch& launch, int ready_fd) {
  std::vector<std::string> argv = {launch.binary, "--pod-dir=" + launch.pod_dir,
                                   "--data-dir=" + launch.data_dir};
  if (launch.debug) {
    argv.emplace_back("--debug");
  }
  if (launch.rm) {
    argv.emplace_back("--rm");
  }
  if (ready_fd < 0) {
    argv.emplace_back("--foreground");
  } else {
    argv.push_back(fmt::format("--ready-fd={}", ready_fd));
  }
  return argv;
}

Status LaunchSupervisor(const SupervisorLaunch& launch, LaunchResult& result) {
  result.started = false;
  os::UniqueFd lock(launch.lock_fd);
  RETURN_IF_ERROR(ClearCloexec(lock.get()));
  std::vector<std::string> env = SupervisorEnv(lock.get());
  std::vector<char*> envp = CStrings(env);
  if (!launch.detach) {
    std::vector<std::string> argv = SupervisorArgv(launch, -1);
    std::vector<char*> args = CStrings(argv);
    ::execve(launch.binary.c_str(), args.data(), envp.data());
    return Err(Error::FromErrno("exec", launch.binary));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  os::UniqueFd ready_read(pipe_fds[0]);
  os::UniqueFd ready_write(pipe_fds[1]);
  // Non-blocking both ends: the supervisor's log is read only after its ready line, so once the
  // pipe is full (64 KiB) it drops what it logs rather than waiting for us.
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  os::UniqueFd log_read(pipe_fds[0]);
  os::UniqueFd log_write(pipe_fds[1]);
  std::vector<std::string> argv = SupervisorArgv(launch, ready_write.get());
  std::vector<char*> args = CStrings(argv);
  const std::string failure = fmt::format("exec-failed: exec {}: ", launch.binary);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return Err(Error::FromErrno("fork"));
  }
  if (pid == 0) {
    DetachedChild(launch.binary.c_str(), args.data(), envp.data(), lock.get(), ready_write.get(),
                  log_write.get(), failure.c_str());
  }
  // The child holds the lock now (flock belongs to the shared open file description).
  ready_write.Reset();
  log_write.Reset();
  lock.Reset();
  Status ready = ReadReady(ready_read.get(), result);
  RelayStartupLog(log_read.get());
  if (!result.started) {
    (void)::waitpid(pid, nullptr, 0);  // it failed to exec and exits at once
  }
  return ready;
}

}  // namespace comet::cli
