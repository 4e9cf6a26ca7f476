// Probe and hook actions (see probe_check.h).
#include "node/probe_check.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/unique_fd.h"

namespace comet::node {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What an exec probe's output may add to a message (the kubelet keeps 10 KiB; events are short).
constexpr size_t kMaxOutputChars = 512;
// A response's status line must arrive within this many bytes.
constexpr size_t kMaxHeadBytes = size_t{8} * 1024;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

std::string HostPort(const std::string& host, int32_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

// A connected TCP socket to host:port before `deadline`: each address getaddrinfo gives is tried.
Result<os::UniqueFd> Dial(const std::string& host, int32_t port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int r = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); r != 0) {
    return Err(Error(EHOSTUNREACH, fmt::format("lookup {}: {}", host, ::gai_strerror(r))));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  Error last(ECONNREFUSED, "no address");
  for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
    os::UniqueFd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd) {
      last = Error::FromErrno("socket");
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
      return fd;
    }
    if (errno != EINPROGRESS) {
      last = Error::FromErrno("connect");
      continue;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int r = 0;
    while ((r = ::poll(&p, 1, MillisLeft(deadline))) < 0 && errno == EINTR) {
    }
    if (r == 0) {
      return Err(Error(ETIMEDOUT, "connect: timed out"));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    if (r < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
      last = Error::FromErrno("connect");
      continue;
    }
    if (error != 0) {
      last = Error::FromCode(error, "connect");
      continue;
    }
    return fd;
  }
  return Err(std::move(last));
}

Status SendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return Err(Error::FromErrno("write"));
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) == 0) {
      return Err(Error(ETIMEDOUT, "write: timed out"));
    }
  }
  return Ok();
}

// Reads until the status line is complete: "HTTP/1.1 200 OK".
Result<int> ReadStatus(int fd, Clock::time_point deadline) {
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.find('\n') == std::string::npos) {
    if (head.size() > kMaxHeadBytes) {
      return Err(Error::Invalid("no status line in the response"));
    }
    pollfd p{fd, POLLIN, 0};
    int r = 0;
    while ((r = ::poll(&p, 1, MillisLeft(deadline))) < 0 && errno == EINTR) {
    }
    if (r == 0) {
      return Err(Error(ETIMEDOUT, "timed out awaiting response headers"));
    }
    char buffer[1024];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read"));
    }
    if (n == 0) {
      if (head.empty()) {
        return Err(Error(ECONNRESET, "EOF before a response"));
      }
      break;
    }
    head.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN reason"
  std::vector<std::string> words = Split(head.substr(0, head.find('\n')), ' ');
  if (words.size() < 2 || !StartsWith(words[0], "HTTP/")) {
    return Err(Error::Invalid(
        fmt::format("malformed status line {:?}", Printable(head.substr(0, head.find('\n')), 80))));
  }
  auto status = ParseInt(TrimSpace(words[1]));
  if (!status || *status < 100 || *status > 999) {
    return Err(Error::Invalid("malformed status code"));
  }
  return static_cast<int>(*status);
}

CheckResult ExecAction(const kube::ExecAction& exec, const ProbeTarget& target,
                       const CometRunner& runner, milliseconds timeout) {
  if (exec.command.empty()) {
    return {false, "exec: no command"};
  }
  auto result = runner.Exec(target.pod_uuid, target.app, exec.command, timeout);
  if (!result) {
    return {false, result.error().ToString()};
  }
  std::string output = std::string(TrimSpace(result->stdout_data + result->stderr_data));
  if (result->timed_out) {
    return {false, fmt::format("command timed out after {}s",
                               static_cast<double>(timeout.count()) / 1000.0)};
  }
  if (result->Succeeded()) {
    return {true, Printable(output, kMaxOutputChars)};
  }
  return {false, output.empty()
                     ? fmt::format("command {} {}", Join(exec.command, " "), result->Describe())
                     : Printable(output, kMaxOutputChars)};
}

}  // namespace

Result<int32_t> ResolvePort(const std::string& port,
                            const std::map<std::string, int32_t>& named_ports) {
  if (auto number = ParseInt(port)) {
    if (*number < 1 || *number > 65535) {
      return Err(Error::Invalid(fmt::format("port {} out of range", *number)));
    }
    return static_cast<int32_t>(*number);
  }
  auto named = named_ports.find(port);
  if (named == named_ports.end()) {
    return Err(Error::NotFound(fmt::format("no container port named {:?}", Printable(port, 64))));
  }
  return named->second;
}

CheckResult TcpCheck(const std::string& host, int32_t port, milliseconds timeout) {
  auto fd = Dial(host, port, Clock::now() + timeout);
  if (!fd) {
    return {false, fmt::format("dial tcp {}: {}", HostPort(host, port), fd.error().ToString())};
  }
  return {true, ""};
}

CheckResult HttpGetCheck(const std::string& host, int32_t port, const std::string& path,
                         const std::vector<kube::HttpHeader>& headers, milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  const std::string target = path.empty() || path[0] != '/' ? "/" + path : path;
  const std::string url = fmt::format("http://{}{}", HostPort(host, port), target);
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return {false, fmt::format("Get {:?}: invalid path", Printable(url, 200))};
    }
  }
  std::string request = fmt::format("GET {} HTTP/1.1\r\n", target);
  bool host_given = false;
  bool agent_given = false;
  for (const kube::HttpHeader& header : headers) {
    if (header.name.find_first_of(":\r\n") != std::string::npos ||
        header.value.find_first_of("\r\n") != std::string::npos) {
      return {false, fmt::format("Get {:?}: invalid header {:?}", url, Printable(header.name, 64))};
    }
    host_given = host_given || strcasecmp(header.name.c_str(), "Host") == 0;
    agent_given = agent_given || strcasecmp(header.name.c_str(), "User-Agent") == 0;
    request += fmt::format("{}: {}\r\n", header.name, header.value);
  }
  if (!host_given) {
    request += fmt::format("Host: {}\r\n", HostPort(host, port));
  }
  if (!agent_given) {
    request += "User-Agent: kube-probe/comet-node\r\n";
  }
  request += "Accept: */*\r\nConnection: close\r\n\r\n";

  auto fd = Dial(host, port, deadline);
  if (!fd) {
    return {false, fmt::format("Get {:?}: dial tcp {}: {}", url, HostPort(host, port),
                               fd.error().ToString())};
  }
  if (Status sent = SendAll(fd->get(), request, deadline); !sent) {
    return {false, fmt::format("Get {:?}: {}", url, sent.error().ToString())};
  }
  auto status = ReadStatus(fd->get(), deadline);
  if (!status) {
    return {false, fmt::format("Get {:?}: {}", url, status.error().ToString())};
  }
  if (*status >= 200 && *status < 400) {
    return {true, ""};
  }
  return {false, fmt::format("HTTP probe failed with statuscode: {}", *status)};
}

CheckResult RunAction(const kube::Handler& handler, const ProbeTarget& target,
                      const CometRunner& runner, milliseconds timeout) {
  if (handler.exec) {
    return ExecAction(*handler.exec, target, runner, timeout);
  }
  if (handler.http_get) {
    const kube::HttpGetAction& get = *handler.http_get;
    if (get.scheme != "HTTP" && get.scheme != "http") {
      return {false, fmt::format("httpGet scheme {:?} is not supported (only HTTP)",
                                 Printable(get.scheme, 16))};
    }
    auto port = ResolvePort(get.port, target.named_ports);
    if (!port) {
      return {false, port.error().ToString()};
    }
    return HttpGetCheck(get.host.empty() ? target.ip : get.host, *port, get.path, get.headers,
                        timeout);
  }
  if (handler.tcp_socket) {
    auto port = ResolvePort(handler.tcp_socket->port, target.named_ports);
    if (!port) {
      return {false, port.error().ToString()};
    }
    return TcpCheck(handler.tcp_socket->host.empty() ? target.ip : handler.tcp_socket->host, *port,
                    timeout);
  }
  if (handler.sleep_seconds) {
    const milliseconds wanted = std::chrono::seconds(std::max<int64_t>(*handler.sleep_seconds, 0));
    std::this_thread::sleep_for(std::min(wanted, timeout));
    return {true, ""};
  }
  return {false, "the action has none of exec, httpGet, tcpSocket"};
}

}  // namespace comet::node
