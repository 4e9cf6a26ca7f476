// Tests of probe actions against servers on 127.0.0.1 made by the test: tcpSocket opens or is
// refused, httpGet's status ranges, headers and timeouts, named ports; and an exec action
// through a stand-in for comet (a shell script that runs the command).
#include "node/probe_check.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace comet::node {
namespace {

using std::chrono::milliseconds;

// A listening socket on 127.0.0.1 (port chosen by the kernel).
struct Listener {
  os::UniqueFd fd;
  int port = 0;
};

Listener Listen() {
  Listener l;
  l.fd = os::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::listen(l.fd.get(), 8), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  l.port = ntohs(addr.sin_port);
  return l;
}

// Answers one connection with `response` (after reading the request head), or not at all.
std::thread ServeOnce(int listener, std::string response, std::string* request = nullptr) {
  return std::thread([listener, response = std::move(response), request] {
    os::UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      return;
    }
    std::string head;
    char buffer[1024];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(conn.get(), buffer, sizeof(buffer));
      if (n <= 0) {
        break;
      }
      head.append(buffer, static_cast<size_t>(n));
    }
    if (request != nullptr) {
      *request = head;
    }
    if (!response.empty()) {
      (void)::write(conn.get(), response.data(), response.size());
    } else {
      std::this_thread::sleep_for(milliseconds(1500));  // never answers in time
    }
  });
}

TEST(TcpCheck, OpenAndRefused) {
  Listener l = Listen();
  EXPECT_TRUE(TcpCheck("127.0.0.1", l.port, milliseconds(1000)).ok);
  const int port = l.port;
  l.fd.Reset();
  CheckResult refused = TcpCheck("127.0.0.1", port, milliseconds(1000));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.message.find("dial tcp 127.0.0.1:"), std::string::npos) << refused.message;
}

TEST(HttpGetCheck, StatusRanges) {
  for (const auto& [status, ok] :
       std::vector<std::pair<std::string, bool>>{{"200 OK", true},
                                                 {"302 Found", true},
                                                 {"404 Not Found", false},
                                                 {"500 Internal Server Error", false}}) {
    Listener l = Listen();
    std::string request;
    std::thread server =
        ServeOnce(l.fd.get(), "HTTP/1.1 " + status + "\r\nContent-Length: 0\r\n\r\n", &request);
    CheckResult result =
        HttpGetCheck("127.0.0.1", l.port, "/healthz", {{"X-Probe", "yes"}}, milliseconds(2000));
    server.join();
    EXPECT_EQ(result.ok, ok) << status << ": " << result.message;
    EXPECT_EQ(request.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("X-Probe: yes\r\n"), std::string::npos) << request;
    EXPECT_NE(request.find("Host: 127.0.0.1:"), std::string::npos) << request;
    if (!ok) {
      EXPECT_NE(result.message.find("statuscode: " + status.substr(0, 3)), std::string::npos)
          << result.message;
    }
  }
}

TEST(HttpGetCheck, TimeoutAndGarbage) {
  Listener l = Listen();
  std::thread silent = ServeOnce(l.fd.get(), "");
  CheckResult slow = HttpGetCheck("127.0.0.1", l.port, "/", {}, milliseconds(300));
  silent.join();
  EXPECT_FALSE(slow.ok);
  EXPECT_NE(slow.message.find("timed out"), std::string::npos) << slow.message;

  std::thread garbage = ServeOnce(l.fd.get(), "SSH-2.0-OpenSSH\r\n");
  CheckResult bad = HttpGetCheck("127.0.0.1", l.port, "/", {}, milliseconds(1000));
  garbage.join();
  EXPECT_FALSE(bad.ok);
  EXPECT_FALSE(HttpGetCheck("127.0.0.1", l.port, "/a b", {}, milliseconds(100)).ok);
  EXPECT_FALSE(HttpGetCheck("127.0.0.1", l.port, "/", {{"X\r\nEvil", "1"}}, milliseconds(100)).ok);
}

TEST(ResolvePort, NumbersAndNames) {
  EXPECT_EQ(ResolvePort("8080", {}).value_or(0), 8080);
  EXPECT_EQ(ResolvePort("http", {{"http", 80}}).value_or(0), 80);
  EXPECT_FALSE(ResolvePort("http", {}));
  EXPECT_FALSE(ResolvePort("0", {}));
  EXPECT_FALSE(ResolvePort("70000", {}));
}

TEST(RunAction, ExecThroughComet) {
  auto dir = os::TempDir::Create("comet-node-probe-");
  ASSERT_TRUE(dir);
  // A stand-in for comet: `exec --app=APP UUID -- CMD...` runs CMD here.
  const std::string fake = os::JoinPath(dir->path(), "comet");
  ASSERT_TRUE(os::WriteFile(fake,
                            "#!/bin/sh\n"
                            "[ \"$1\" = --dir=/data ] || exit 99\n"
                            "[ \"$2\" = exec ] && [ \"$3\" = --app=web ] && [ \"$4\" = u1 ] && "
                            "[ \"$5\" = -- ] || exit 98\n"
                            "shift 5\nexec \"$@\"\n",
                            0755));
  CometRunnerOptions options;
  options.program = fake;
  options.data_dir = "/data";
  CometRunner runner(options);
  ProbeTarget target;
  target.pod_uuid = "u1";
  target.app = "web";
  target.ip = "127.0.0.1";
  kube::Handler ok;
  ok.exec = kube::ExecAction{{"/bin/sh", "-c", "echo healthy"}};
  CheckResult good = RunAction(ok, target, runner, milliseconds(5000));
  EXPECT_TRUE(good.ok) << good.message;
  EXPECT_EQ(good.message, "healthy");
  kube::Handler failing;
  failing.exec = kube::ExecAction{{"/bin/sh", "-c", "echo sick >&2; exit 3"}};
  CheckResult bad = RunAction(failing, target, runner, milliseconds(5000));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.message, "sick");
  kube::Handler slow;
  slow.exec = kube::ExecAction{{"/bin/sleep", "5"}};
  CheckResult timed_out = RunAction(slow, target, runner, milliseconds(200));
  EXPECT_FALSE(timed_out.ok);
  EXPECT_NE(timed_out.message.find("timed out"), std::string::npos) << timed_out.message;
  kube::Handler nothing;
  EXPECT_FALSE(RunAction(nothing, target, runner, milliseconds(100)).ok);
  kube::Handler tcp;
  tcp.tcp_socket = kube::TcpSocketAction{"web", ""};
  EXPECT_FALSE(RunAction(tcp, target, runner, milliseconds(100)).ok);  // no port named web
}

}  // namespace
}  // namespace comet::node
