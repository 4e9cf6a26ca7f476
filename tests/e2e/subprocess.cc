// Exec: fork/exec with memfd-captured output and a pidfd-based timeout.
#include "e2e/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace comet::e2e {
namespace {

int MakeMemfd(const char* name) {
  int fd = static_cast<int>(::syscall(SYS_memfd_create, name, MFD_CLOEXEC));
  if (fd < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  return fd;
}

std::string ReadAllFrom(int fd) {
  std::string data;
  char buf[8192];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    data.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return data;
}

// Runs in the forked child: only async-signal-safe calls on data prepared by the parent.
[[noreturn]] void ChildExec(char* const* argv, char* const* envp, int in_fd, int out_fd, int err_fd,
                            const std::vector<int>& pass_fds) {
  ::setpgid(0, 0);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  for (int fd : pass_fds) {
    ::fcntl(fd, F_SETFD, 0);
  }
  (void)::signal(SIGPIPE, SIG_DFL);
  ::execve(argv[0], argv, envp);
  const char msg[] = "exec failed\n";
  ssize_t ignored = ::write(2, msg, sizeof msg - 1);
  (void)ignored;
  ::_exit(127);
}

std::string Which(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return name;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir;
    candidate += '/';
    candidate += name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return name;
}

// Waits for `pid` up to `timeout`; kills its process group when it expires.
int WaitWithTimeout(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      *timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    ::close(pidfd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

std::string ProcResult::Describe() const {
  std::string s = timed_out     ? "timed out"
                  : signal != 0 ? "killed by signal " + std::to_string(signal)
                                : "exit " + std::to_string(exit_code);
  return s + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
}

ProcResult Exec(const std::vector<std::string>& argv, const ProcOptions& options) {
  std::vector<std::string> args = argv;
  args[0] = Which(args[0]);
  std::vector<char*> c_argv;
  c_argv.reserve(args.size() + 1);
  for (auto& a : args) {
    c_argv.push_back(a.data());
  }
  c_argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    env_storage.emplace_back(*e);
  }
  env_storage.insert(env_storage.end(), options.env.begin(), options.env.end());
  std::vector<char*> c_env;
  c_env.reserve(env_storage.size() + 1);
  for (auto& e : env_storage) {
    c_env.push_back(e.data());
  }
  c_env.push_back(nullptr);

  int in_fd = MakeMemfd("stdin");
  if (!options.stdin_data.empty()) {
    ssize_t n = ::pwrite(in_fd, options.stdin_data.data(), options.stdin_data.size(), 0);
    (void)n;
  }
  int out_fd = -1;
  int err_fd = -1;
  if (options.output_path.empty()) {
    out_fd = MakeMemfd("stdout");
    err_fd = MakeMemfd("stderr");
  } else {
    out_fd = ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      std::perror(options.output_path.c_str());
      std::abort();
    }
    err_fd = ::fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ChildExec(c_argv.data(), c_env.data(), in_fd, out_fd, err_fd, options.pass_fds);
  }
  ProcResult result;
  int status = WaitWithTimeout(pid, options.timeout, &result.timed_out);
  if (WIFEXITED(status) && !result.timed_out) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  if (options.output_path.empty()) {
    result.out = ReadAllFrom(out_fd);
    result.err = ReadAllFrom(err_fd);
  } else {
    result.out = ReadFileOrEmpty(options.output_path);
  }
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  return result;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& data, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    const int err = errno;
    (void)std::fprintf(stderr, "writing %s: %s\n", path.c_str(),
                       std::generic_category().message(err).c_str());
    std::abort();
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

}  // namespace comet::e2e
