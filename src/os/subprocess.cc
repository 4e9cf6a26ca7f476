// RunSubprocess: posix_spawn (glibc spawns with clone(CLONE_VM|CLONE_VFORK) and allocates
// nothing in the child; exec failures come back as its return value), then one poll loop over
// the output pipes and a pidfd.
#include "os/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/scope_exit.h"
#include "os/file.h"
#include "os/unique_fd.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace comet::os {

std::string SubprocessResult::Describe() const {
  if (timed_out) {
    return "timed out and was killed";
  }
  if (signal != 0) {
    return fmt::format("killed by signal {}", signal);
  }
  return fmt::format("exited with status {}", exit_code);
}

namespace {

using Clock = std::chrono::steady_clock;

// After the child exits, how long to keep reading pipes that a grandchild may still hold.
constexpr std::chrono::milliseconds kDrainGrace{200};

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

Result<UniqueFd> StdinMemfd(std::string_view data) {
  if (data.size() > kMaxSubprocessStdin) {
    return Err(Error(EFBIG, fmt::format("stdin of {} bytes is over the limit", data.size())));
  }
  UniqueFd fd(::memfd_create("comet-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) {
    return Err(Error::FromErrno("memfd_create", "stdin"));
  }
  RETURN_IF_ERROR(WriteAll(fd.get(), data));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) {
    return Err(Error::FromErrno("lseek", "stdin"));
  }
  // Sealed, so the child cannot change what a retry or a log would see.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
      0) {
    return Err(Error::FromErrno("sealing", "stdin"));
  }
  return fd;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (::fcntl(p.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    return Err(Error::FromErrno("fcntl", "pipe"));
  }
  return p;
}

// Output read from one pipe, bounded.
struct Sink {
  UniqueFd fd;
  std::string* data;
  size_t limit;
  bool* truncated;

  // Reads what is available; closes the fd at EOF or on error.
  void Drain() {
    char buf[16384];
    while (fd) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        size_t room = limit - data->size();
        size_t take = static_cast<size_t>(n) < room ? static_cast<size_t>(n) : room;
        data->append(buf, take);
        if (take < static_cast<size_t>(n)) {
          *truncated = true;
        }
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        return;
      } else {
        fd.Reset();
      }
    }
  }
};

Result<pid_t> Spawn(const SubprocessOptions& options, int stdin_fd, int out_fd, int err_fd) {
  std::vector<std::string> argv_strings = options.argv;
  if (argv_strings.empty()) {
    argv_strings.push_back(options.program);
  }
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = options.env.value_or(std::vector<std::string>{});
  std::vector<char*> envp = CStrings(env_strings);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  ScopeExit destroy_actions([&] { posix_spawn_file_actions_destroy(&actions); });
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  // Every fd of ours is O_CLOEXEC already; this also drops any a library leaked without it.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  ScopeExit destroy_attr([&] { posix_spawnattr_destroy(&attr); });
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group, so a timeout kills its helpers too
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, options.program.c_str(), &actions, &attr, argv.data(),
                         options.env ? envp.data() : environ);
  if (rc != 0) {
    return Err(Error::FromCode(rc, "running", options.program));
  }
  return pid;
}

void RecordStatus(int status, SubprocessResult* result) {
  if (WIFEXITED(status)) {
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->signal = WTERMSIG(status);
  }
}

// Kills the child's process group and the child itself (in case it left the group).
void KillChild(pid_t pid, int pidfd) {
  ::kill(-pid, SIGKILL);
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

int PollMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count() > 60000 ? 60000 : left.count());
}

// Reads both pipes until the child exits (plus a short drain) or the deadline passes.
Status Supervise(pid_t pid, int pidfd, Sink* out, Sink* err, std::optional<Clock::time_point> limit,
                 SubprocessResult* result) {
  bool exited = false;
  Clock::time_point drain_until{};
  while (true) {
    Clock::time_point now = Clock::now();
    if (!exited && limit && now >= *limit) {
      result->timed_out = true;
      KillChild(pid, pidfd);
      break;
    }
    if ((exited && (now >= drain_until || (!out->fd && !err->fd)))) {
      break;
    }
    pollfd fds[3] = {{out->fd.get(), POLLIN, 0}, {err->fd.get(), POLLIN, 0}, {-1, POLLIN, 0}};
    fds[2].fd = exited ? -1 : pidfd;
    Clock::time_point until = exited ? drain_until : limit.value_or(now + std::chrono::hours(1));
    int n = ::poll(fds, 3, PollMs(until));
    if (n < 0 && errno != EINTR) {
      KillChild(pid, pidfd);
      return Err(Error::FromErrno("poll", "subprocess"));
    }
    out->Drain();
    err->Drain();
    if (!exited && n > 0 && (fds[2].revents & POLLIN) != 0) {
      exited = true;
      drain_until = Clock::now() + kDrainGrace;
    }
  }
  return Ok();
}

}  // namespace

Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options) {
  ASSIGN_OR_RETURN(UniqueFd stdin_fd, StdinMemfd(options.stdin_data));
  ASSIGN_OR_RETURN(Pipe out_pipe, MakePipe());
  ASSIGN_OR_RETURN(Pipe err_pipe, MakePipe());
  std::optional<Clock::time_point> limit;
  if (options.timeout.count() > 0) {
    limit = Clock::now() + options.timeout;
  }
  ASSIGN_OR_RETURN(pid_t pid,
                   Spawn(options, stdin_fd.get(), out_pipe.write.get(), err_pipe.write.get()));
  out_pipe.write.Reset();
  err_pipe.write.Reset();
  stdin_fd.Reset();

  SubprocessResult result;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  Status supervised = Ok();
  if (!pidfd) {
    supervised = Err(Error::FromErrno("pidfd_open", options.program));
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  } else {
    Sink out{std::move(out_pipe.read), &result.stdout_data, options.max_stdout,
             &result.stdout_truncated};
    Sink err{std::move(err_pipe.read), &result.stderr_data, options.max_stderr,
             &result.stderr_truncated};
    supervised = Supervise(pid, pidfd.get(), &out, &err, limit, &result);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("waitpid", options.program));
    }
  }
  RETURN_IF_ERROR(supervised);
  RecordStatus(status, &result);
  return result;
}

}  // namespace comet::os
