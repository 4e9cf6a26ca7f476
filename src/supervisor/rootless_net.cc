// A rootless pod's network through pasta or slirp4netns; see rootless_net.h.
#include "supervisor/rootless_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "os/file.h"
#include "pod/pod_networks.h"
#include "pod/volatile_dir.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace comet::supervisor {
namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr size_t kMaxToolOutput = 4096;
constexpr size_t kMaxReply = 4096;

// The helper process, right after fork(2) in this single-threaded process: async-signal-safe
// calls only, on data prepared before the fork. `fds` are the parent's (close-on-exec).
struct HelperFds {
  int go_write;  // the supervisor's end, closed here: only the supervisor may end the wait
  int null;
  int log;
  int go;
  int ready;
  int exit;  // -1 without one
};

[[noreturn]] void HelperMain(pid_t parent, const HelperFds& fds, const char* netns_path,
                             const char* program, char* const* argv) {
  // Dies with the supervisor; a supervisor already gone is checked after arming it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(1);
  }
  ::close(fds.go_write);
  // The tool gets default signal handling, not the supervisor's blocked set (SIGTERM...).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    (void)::sigaction(signal, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the forked child has only this thread
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Out of the way of the fixed numbers first (every copy close-on-exec), then into them.
  const int null = ::fcntl(fds.null, F_DUPFD_CLOEXEC, 20);
  const int log = ::fcntl(fds.log, F_DUPFD_CLOEXEC, 20);
  const int go = ::fcntl(fds.go, F_DUPFD_CLOEXEC, 20);
  const int ready = ::fcntl(fds.ready, F_DUPFD_CLOEXEC, 20);
  const int exit = fds.exit >= 0 ? ::fcntl(fds.exit, F_DUPFD_CLOEXEC, 20) : -1;
  if (null < 0 || log < 0 || go < 0 || ready < 0 || (fds.exit >= 0 && exit < 0)) {
    ::_exit(126);
  }
  if (::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0 ||
      ::dup2(ready, kHelperReadyFd) < 0 || (exit >= 0 && ::dup2(exit, kHelperExitFd) < 0)) {
    ::_exit(126);
  }
  // Nothing else of the supervisor's reaches the tool (its ready fd, the pod lock...).
  ::syscall(SYS_close_range, static_cast<unsigned int>(kHelperExitFd) + 1, ~0U,
            static_cast<unsigned int>(CLOSE_RANGE_CLOEXEC));
  char byte = 0;
  ssize_t n = 0;
  do {
    n = ::read(go, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    ::_exit(0);  // the supervisor gave up before the namespace existed
  }
  const int netns = ::open(netns_path, O_RDONLY | O_CLOEXEC);
  if (netns < 0 || ::dup2(netns, kHelperNetnsFd) < 0) {
    ::_exit(126);
  }
  ::execve(program, argv, environ);
  ::_exit(127);
}

Result<std::pair<os::UniqueFd, os::UniqueFd>> Pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2", "rootless network helper"));
  }
  return std::make_pair(os::UniqueFd(fds[0]), os::UniqueFd(fds[1]));
}

std::string Cidr(const sockaddr* addr, const sockaddr* mask) {
  char text[INET6_ADDRSTRLEN] = {};
  int prefix = 0;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    if (mask != nullptr) {
      prefix = __builtin_popcount(reinterpret_cast<const sockaddr_in*>(mask)->sin_addr.s_addr);
    }
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    if (mask != nullptr) {
      for (uint8_t byte : reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr) {
        prefix += __builtin_popcount(byte);
      }
    }
  }
  return fmt::format("{}/{}", text, prefix);
}

// The pod interface's addresses, read in the pod's namespace (this process's now): the first
// interface that is not loopback with an IPv4 address, and its first global IPv6 one.
struct PodInterface {
  std::string name;
  std::string ipv4;
  std::string ipv6;
};

Result<PodInterface> ReadPodInterface() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return Err(Error::FromErrno("getifaddrs", "the pod's network namespace"));
  }
  PodInterface found;
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || (it->ifa_flags & IFF_LOOPBACK) != 0 ||
        (!found.name.empty() && found.name != it->ifa_name)) {
      continue;
    }
    if (it->ifa_addr->sa_family == AF_INET && found.ipv4.empty()) {
      found.name = it->ifa_name;
      found.ipv4 = Cidr(it->ifa_addr, it->ifa_netmask);
    }
  }
  for (const ifaddrs* it = list; it != nullptr && !found.name.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET6 ||
        found.name != it->ifa_name || !found.ipv6.empty()) {
      continue;
    }
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
    if (!IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
      found.ipv6 = Cidr(it->ifa_addr, it->ifa_netmask);
    }
  }
  ::freeifaddrs(list);
  if (found.name.empty()) {
    return Err(Error::Invalid("the pod's network namespace has no IPv4 address"));
  }
  return found;
}

// The IPv4 default route's gateway in this process's network namespace, or empty.
std::string DefaultGateway4() {
  auto table = os::ReadFileLimited("/proc/self/net/route", 64 << 10);
  if (!table) {
    return "";
  }
  for (const std::string& line : Split(*table, '\n')) {
    std::vector<std::string> fields;
    for (const std::string& field : Split(line, '\t')) {
      if (!TrimSpace(field).empty()) {
        fields.emplace_back(TrimSpace(field));
      }
    }
    if (fields.size() < 3 || fields[1] != "00000000") {
      continue;
    }
    in_addr gateway{};
    gateway.s_addr = static_cast<in_addr_t>(std::strtoul(fields[2].c_str(), nullptr, 16));
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &gateway, text, sizeof(text));
    return text;
  }
  return "";
}

}  // namespace

RootlessNet::~RootlessNet() {
  Stop();
}

Result<std::unique_ptr<RootlessNet>> RootlessNet::Prepare(const pod::PodManifest& manifest,
                                                          const std::string& pod_dir) {
  RETURN_IF_ERROR(CheckRootlessNetworks(manifest));
  std::unique_ptr<RootlessNet> net(new RootlessNet());
  ASSIGN_OR_RETURN(net->tool_,
                   FindRootlessNetTool(std::getenv("PATH")));  // NOLINT(concurrency-mt-unsafe)
  net->manifest_ = manifest;
  // In the volatile state directory (tmpfs, removed with the pod), by its real path: a unix
  // socket's path has 107 bytes at most.
  char state[PATH_MAX];
  if (::realpath(os::JoinPath(pod_dir, pod::kStateLink).c_str(), state) == nullptr) {
    return Err(Error::FromErrno("realpath", os::JoinPath(pod_dir, pod::kStateLink)));
  }
  net->log_path_ = os::JoinPath(state, "rootless-net.log");
  net->api_socket_ = os::JoinPath(state, "slirp4netns.sock");
  if (net->api_socket_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Err(Error::Invalid(fmt::format(
        "{}: too long for a unix socket (slirp4netns's api socket)", net->api_socket_)));
  }
  (void)::unlink(net->api_socket_.c_str());
  RETURN_IF_ERROR(net->Fork(RootlessNetArgv(net->tool_, manifest.ports, net->api_socket_)));
  return net;
}

Status RootlessNet::Fork(const std::vector<std::string>& args) {
  os::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) {
    return Err(Error::FromErrno("open", "/dev/null"));
  }
  os::UniqueFd log(
      ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!log) {
    return Err(Error::FromErrno("open", log_path_));
  }
  ASSIGN_OR_RETURN(auto go, Pipe());
  ASSIGN_OR_RETURN(auto ready, Pipe());
  std::pair<os::UniqueFd, os::UniqueFd> exit_pipe;
  if (tool_.kind == RootlessNetKind::kSlirp4netns) {
    ASSIGN_OR_RETURN(exit_pipe, Pipe());
  }
  // Everything the child needs, made before the fork.
  std::vector<char*> argv;
  std::vector<std::string> owned = args;
  argv.reserve(owned.size() + 1);
  for (std::string& arg : owned) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const std::string netns_path = fmt::format("/proc/{}/ns/net", parent);
  const HelperFds fds{go.second.get(),    null.get(),
                      log.get(),          go.first.get(),
                      ready.second.get(), exit_pipe.first ? exit_pipe.first.get() : -1};
  const pid_t child = ::fork();
  if (child < 0) {
    return Err(Error::FromErrno("fork", "rootless network helper"));
  }
  if (child == 0) {
    HelperMain(parent, fds, netns_path.c_str(), tool_.path.c_str(), argv.data());
  }
  pid_ = child;
  go_ = std::move(go.second);
  ready_ = std::move(ready.first);
  exit_ = std::move(exit_pipe.second);
  return Ok();
}

Result<network::NetworkAttachment> RootlessNet::Start() {
  const char go = 'g';
  if (::write(go_.get(), &go, 1) != 1) {
    Status failed = Err(Error::FromErrno("write", "rootless network helper"));
    Stop();
    return Err(std::move(failed).error());
  }
  go_.Reset();
  Status ready = WaitReady();
  if (ready && tool_.kind == RootlessNetKind::kSlirp4netns) {
    ready = PublishSlirpPorts();
  }
  auto interface = ready ? ReadPodInterface() : Result<PodInterface>(Err(ready.error()));
  if (!interface) {
    Error error = WithToolOutput(std::move(interface).error());
    Stop();
    return Err(std::move(error));
  }
  return RootlessNetRecord(tool_.kind, manifest_.uuid, interface->name, interface->ipv4,
                           DefaultGateway4(), interface->ipv6);
}

Status RootlessNet::WaitReady() {
  const char* name = RootlessNetToolName(tool_.kind);
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Err(
          Error::Invalid(fmt::format("{} was not ready after {} s", name, kReadyTimeout.count())));
    }
    pollfd fd{ready_.get(), POLLIN, 0};
    const int polled = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) {
      return Err(Error::FromErrno("poll", name));
    }
    if (polled <= 0) {
      continue;
    }
    char buffer[64];
    const ssize_t n = ::read(ready_.get(), buffer, sizeof(buffer));
    if (n > 0) {
      ready_.Reset();
      return Ok();
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    // End of file: every write end is closed, the tool exited (or failed to exec).
    int wait_status = 0;
    std::string how = "exited";
    if (pid_ > 0 && ::waitpid(pid_, &wait_status, 0) == pid_) {
      pid_ = 0;
      how = WIFEXITED(wait_status) ? fmt::format("exited with status {}", WEXITSTATUS(wait_status))
                                   : fmt::format("was killed by signal {}", WTERMSIG(wait_status));
    }
    return Err(
        Error::Invalid(fmt::format("{} ({}) {} before it was ready", name, tool_.path, how)));
  }
}

Status RootlessNet::PublishSlirpPorts() const {
  for (const pod::PortMapping& port : manifest_.ports) {
    os::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) {
      return Err(Error::FromErrno("socket", api_socket_));
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, api_socket_.c_str(), api_socket_.size() + 1);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Err(Error::FromErrno("connect", api_socket_));
    }
    RETURN_IF_ERROR(os::WriteAll(sock.get(), SlirpHostFwdRequest(port).dump()));
    (void)::shutdown(sock.get(), SHUT_WR);
    ASSIGN_OR_RETURN(std::string reply, os::ReadFd(sock.get(), kMaxReply));
    Status published = CheckSlirpReply(reply);
    if (!published) {
      return Err(std::move(published).error().AddContext(
          fmt::format("--port {}:{}:{}/{}", port.host_ip.empty() ? "0.0.0.0" : port.host_ip,
                      port.host_port, port.pod_port, port.protocol)));
    }
  }
  return Ok();
}

Error RootlessNet::WithToolOutput(Error error) const {
  auto output = os::ReadFileLimited(log_path_, 1 << 20);
  if (!output || TrimSpace(*output).empty()) {
    return error;
  }
  std::string_view text = TrimSpace(*output);
  if (text.size() > kMaxToolOutput) {
    text = text.substr(text.size() - kMaxToolOutput);
  }
  std::vector<std::string> lines;
  for (const std::string& line : Split(text, '\n')) {
    if (!TrimSpace(line).empty()) {
      lines.emplace_back(TrimSpace(line));
    }
  }
  return {error.code(),
          fmt::format("{} ({} said: {})", error.ToString(), RootlessNetToolName(tool_.kind),
                      Printable(Join(lines, "; "), kMaxToolOutput))};
}

void RootlessNet::Exited(int wait_status) {
  log::Warning("the pod's network helper {} ({}) ended ({}): the pod has lost its network",
               RootlessNetToolName(tool_.kind), pid_,
               WIFEXITED(wait_status) ? fmt::format("status {}", WEXITSTATUS(wait_status))
                                      : fmt::format("signal {}", WTERMSIG(wait_status)));
  pid_ = 0;
}

void RootlessNet::Stop() {
  go_.Reset();  // a helper still waiting exits
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
  }
  ready_.Reset();
  exit_.Reset();
  (void)::unlink(api_socket_.c_str());
}

}  // namespace comet::supervisor
