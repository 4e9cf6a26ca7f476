// RegistryServer and the process helpers behind it: see registry_server.h. Not thread-safe.
#include "testing/registry_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn's environment

namespace comet::testing {
namespace {

std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env = extra;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& x : extra) {
      overridden = overridden || std::string_view(x).substr(0, x.find('=')) == key;
    }
    if (!overridden) {
      env.emplace_back(entry);
    }
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// posix_spawnp with stdout/stderr on the given fds, in a new process group.
Result<pid_t> Spawn(std::vector<std::string> argv, std::vector<std::string> env, int out_fd,
                    int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv = CStrings(argv);
  std::vector<char*> cenv = CStrings(env);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Err(Error::FromCode(rc, "spawning", argv[0]));
  }
  return pid;
}

Result<std::string> ReadMemfd(int fd) {
  if (lseek(fd, 0, SEEK_SET) < 0) {
    return Err(Error::FromErrno("lseek"));
  }
  return os::ReadFd(fd, 64U << 20U);
}

}  // namespace

std::string CommandResult::Describe() const {
  return fmt::format("exit {}, stderr: {}", exit_code, err.substr(0, 4000));
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 std::chrono::seconds timeout) {
  os::UniqueFd out(memfd_create("stdout", MFD_CLOEXEC));
  os::UniqueFd err(memfd_create("stderr", MFD_CLOEXEC));
  if (!out.valid() || !err.valid()) {
    return Err(Error::FromErrno("memfd_create"));
  }
  ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, MergedEnv(env), out.get(), err.get()));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return Err(Error::FromErrno("waitpid", argv[0]));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Err(Error(ETIMEDOUT,
                       fmt::format("{} timed out after {}s", Join(argv, " "), timeout.count())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ASSIGN_OR_RETURN(result.out, ReadMemfd(out.get()));
  ASSIGN_OR_RETURN(result.err, ReadMemfd(err.get()));
  return result;
}

Result<std::string> RunChecked(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env, std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(CommandResult result, RunCommand(argv, env, timeout));
  if (result.exit_code != 0) {
    return Err(Error(EIO, fmt::format("`{}`: {}", Join(argv, " "), result.Describe())));
  }
  return std::move(result.out);
}

Result<int> FreeLoopbackPort() {
  os::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Err(Error::FromErrno("socket"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr API
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Err(Error::FromErrno("bind", "127.0.0.1:0"));
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  return static_cast<int>(ntohs(addr.sin_port));
}

Status WaitForLoopbackPort(int port, pid_t pid, const std::string& what,
                           const std::string& log_path) {
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return Err(Error(ECHILD, fmt::format("{} exited during startup: {}", what,
                                           os::ReadFile(log_path).value_or(""))));
    }
    os::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockaddr API
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      return Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Err(Error(ETIMEDOUT, fmt::format("{} did not listen on port {} within 10 s: {}", what,
                                          port, os::ReadFile(log_path).value_or(""))));
}

Result<pid_t> SpawnDaemon(const std::vector<std::string>& argv, const std::string& log_path) {
  ASSIGN_OR_RETURN(os::UniqueFd log, os::Open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644));
  return Spawn(argv, MergedEnv({}), log.get(), log.get());
}

void StopDaemon(pid_t pid, bool kill_now, std::chrono::milliseconds grace) {
  if (pid <= 0) {
    return;
  }
  kill(-pid, kill_now ? SIGKILL : SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-pid, SIGKILL);  // stragglers in the group
}

RegistryServer::RegistryServer(RegistryServerOptions options, os::TempDir dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

RegistryServer::~RegistryServer() {
  Stop();
}

Result<std::unique_ptr<RegistryServer>> RegistryServer::Start(RegistryServerOptions options) {
  if (options.token_auth && options.users.empty() && !options.anonymous_pull) {
    return Err(Error::Invalid("token_auth needs users or anonymous_pull"));
  }
  ASSIGN_OR_RETURN(os::TempDir dir, os::TempDir::Create("comet-registry-"));
  std::unique_ptr<RegistryServer> server(new RegistryServer(std::move(options), std::move(dir)));
  RETURN_IF_ERROR(server->Setup());
  RETURN_IF_ERROR(server->Launch());
  return server;
}

std::string RegistryServer::url() const {
  return (options_.tls ? "https://" : "http://") + host_port_;
}

std::string RegistryServer::creds() const {
  if (options_.users.empty()) {
    return "";
  }
  return options_.users.front().first + ":" + options_.users.front().second;
}

std::string RegistryServer::Log() const {
  return os::ReadFile(log_path_).value_or("");
}

void RegistryServer::Stop() {
  StopDaemon(pid_, false);
  pid_ = -1;
  StopDaemon(token_pid_, false);
  token_pid_ = -1;
}

void RegistryServer::Kill() {
  StopDaemon(pid_, true);
  pid_ = -1;
}

Status RegistryServer::Restart() {
  StopDaemon(pid_, false);
  pid_ = -1;
  return Launch();
}

Status RegistryServer::Launch() {
  ASSIGN_OR_RETURN(pid_, SpawnDaemon({"docker-registry", "serve", config_path_}, log_path_));
  Status ready = WaitForLoopbackPort(port_, pid_, "docker-registry", log_path_);
  if (!ready) {
    StopDaemon(pid_, true);
    pid_ = -1;
  }
  return ready;
}

}  // namespace comet::testing
