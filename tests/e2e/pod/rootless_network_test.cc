// Rootless contained networking (--net=default through pasta or slirp4netns), as the unprivileged
// comet-test user (run-rootless.sh): a published port on the host's loopback reaches busybox
// httpd in the pod, status shows the pod's address, and after stop no helper process is left.
// Traffic: only the test's own requests to 127.0.0.1; the pod only answers. As root these skip.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

using RootlessNetwork = RootlessPodTest;

// A free TCP port on 127.0.0.1 (bound then released).
uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// GET / on 127.0.0.1:port (HTTP/1.0, 3 s timeouts): the whole answer, or empty.
std::string HttpGetLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return "";
  }
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char request[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, request, sizeof(request) - 1) == static_cast<ssize_t>(sizeof(request) - 1)) {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) {
        answer.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return answer;
}

// The children of `parent` whose command is one of the network helpers.
std::vector<pid_t> HelperChildren(pid_t parent) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return out;
  }
  while (const dirent* entry = ::readdir(proc)) {  // NOLINT(concurrency-mt-unsafe)
    const auto pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) {
      continue;
    }
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 >= line.size()) {
      continue;
    }
    const std::string comm = line.substr(open + 1, close - open - 1);
    const auto ppid = static_cast<pid_t>(std::atoi(line.c_str() + close + 4));
    if ((parent == 0 || ppid == parent) &&
        (comm.starts_with("passt") || comm == "pasta" || comm == "slirp4netns")) {
      out.push_back(pid);
    }
  }
  ::closedir(proc);
  return out;
}

// A directory for PATH holding newuidmap and newgidmap (the user namespace needs them) and the
// named network tools, all symlinks to /usr/bin's.
std::string ToolPath(const std::string& dir, const std::vector<std::string>& tools) {
  ::mkdir(dir.c_str(), 0755);
  std::vector<std::string> all = {"newuidmap", "newgidmap"};
  all.insert(all.end(), tools.begin(), tools.end());
  for (const std::string& tool : all) {
    std::string target = "/usr/bin/";
    target += tool;
    std::string link = dir;
    link += '/';
    link += tool;
    (void)::symlink(target.c_str(), link.c_str());
  }
  return dir;
}

// Sets this process's PATH (which comet inherits) for a scope: ProcOptions::env only appends,
// and the first PATH in an environment wins.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& path) {
    const char* old = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
    old_ = old != nullptr ? old : "";
    ::setenv("PATH", path.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  }
  ~ScopedPath() { ::setenv("PATH", old_.c_str(), 1); }  // NOLINT(concurrency-mt-unsafe)
  ScopedPath(const ScopedPath&) = delete;
  ScopedPath& operator=(const ScopedPath&) = delete;
  ScopedPath(ScopedPath&&) = delete;
  ScopedPath& operator=(ScopedPath&&) = delete;

 private:
  std::string old_;
};

// Dead, or a zombie waiting for its reaper.
bool Gone(pid_t pid) {
  if (::kill(pid, 0) != 0) {
    return true;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  return close == std::string::npos || (close + 2 < line.size() && line[close + 2] == 'Z');
}

bool Installed(const char* path) {
  return ::access(path, X_OK) == 0;
}

bool TunUsable() {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

class RootlessNetworkTool : public RootlessNetwork {
 protected:
  // `path`: comet's PATH while the pod starts, or empty for the test's own.
  void PublishedPortAnswers(const std::string& path, const std::string& tool,
                            const std::string& address_prefix) {
    if (!TunUsable()) {
      GTEST_SKIP() << "/dev/net/tun is not usable by this user (Debian's udev makes it 0666)";
    }
    const uint16_t port = FreeLoopbackPort();
    ASSERT_NE(port, 0);
    std::optional<ScopedPath> scoped_path;
    if (!path.empty()) {
      scoped_path.emplace(path);
    }
    const std::string script =
        "echo hello-rootless-net > /tmp/index.html; httpd -p 80 -h /tmp; "
        "trap 'exit 0' TERM; while true; do sleep 0.2; done";
    const std::string uuid =
        RunDetached({"--net=default", "--port=127.0.0.1:" + std::to_string(port) + ":80", kImage,
                     "--", "/bin/sh", "-c", script});
    scoped_path.reset();
    ASSERT_FALSE(uuid.empty());
    std::string answer;
    EXPECT_TRUE(WaitUntil(
        [&] {
          answer = HttpGetLoopback(port);
          return Contains(answer, "hello-rootless-net");
        },
        10s))
        << "GET 127.0.0.1:" << port << " answered: " << answer;
    auto status = Status(uuid);
    EXPECT_TRUE(status["networks"].starts_with("default:ip4=" + address_prefix))
        << tool << ": networks=" << status["networks"];
    const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + status["pid"]));
    ASSERT_GT(supervisor, 0);
    const std::vector<pid_t> helpers = HelperChildren(supervisor);
    EXPECT_EQ(helpers.size(), 1U) << "one " << tool << " process, the supervisor's child";
    ProcResult resolv = Comet({"exec", uuid, "/bin/cat", "/etc/resolv.conf"});
    if (tool == "slirp4netns") {
      EXPECT_TRUE(resolv.out.starts_with("nameserver 10.0.2.3\n")) << resolv.Describe();
    }
    ProcResult stop = Comet({"stop", uuid});
    EXPECT_EQ(stop.exit_code, 0) << stop.Describe();
    for (pid_t helper : helpers) {
      EXPECT_TRUE(WaitUntil([&] { return Gone(helper); }, 5s))
          << tool << " " << helper << " outlived the pod";
    }
    EXPECT_TRUE(HttpGetLoopback(port).empty()) << "the published port is closed";
    EXPECT_EQ(Comet({"rm", uuid}).exit_code, 0);
    ExpectNothingLeft("rootless network, after rm");
  }
};

TEST_F(RootlessNetworkTool, PastaPublishedPortAnswersOnLoopback) {
  if (!Installed("/usr/bin/pasta")) {
    GTEST_SKIP() << "pasta (package passt) is not installed";
  }
  // pasta copies the host's address (podman's default): any IPv4 address will do.
  PublishedPortAnswers("", "pasta", "");
}

TEST_F(RootlessNetworkTool, Slirp4netnsPublishedPortAnswersOnLoopback) {
  if (!Installed("/usr/bin/slirp4netns")) {
    GTEST_SKIP() << "slirp4netns is not installed";
  }
  // Without pasta in PATH comet falls back to slirp4netns, with podman's 10.0.2.0/24.
  PublishedPortAnswers(ToolPath(tmp() + "/slirp-bin", {"slirp4netns"}), "slirp4netns",
                       "10.0.2.100");
}

TEST_F(RootlessNetworkTool, SupervisorKilledTakesTheHelperAlong) {
  if (!TunUsable() || !Installed("/usr/bin/pasta")) {
    GTEST_SKIP() << "needs pasta and a usable /dev/net/tun";
  }
  const std::string uuid = RunDetached({"--net=default", kImage, "--", "/bin/sleep", "3600"});
  ASSERT_FALSE(uuid.empty());
  const pid_t supervisor = static_cast<pid_t>(std::stoi("0" + Status(uuid)["pid"]));
  ASSERT_GT(supervisor, 0);
  const std::vector<pid_t> helpers = HelperChildren(supervisor);
  ASSERT_EQ(helpers.size(), 1U);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return Gone(helpers[0]); }, 5s)) << "pasta outlived its supervisor";
  EXPECT_TRUE(WaitUntil([&] { return Status(uuid)["state"] == "exited"; }, 5s));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Comet({"gc", "--grace-period=0s"}).exit_code, 0);
  }
  ExpectNothingLeft("rootless network, kill -9 and gc");
}

TEST_F(RootlessNetwork, NoToolIsAClearErrorAndLeavesNothing) {
  ProcResult r;
  {
    ScopedPath path(ToolPath(tmp() + "/no-net-bin", {}));
    r = Comet({"run", "--net=default", kImage, "--", "/bin/true"});
  }
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "rootless networking needs pasta (package passt) or slirp4netns"))
      << r.Describe();
  ExpectNothingLeft("rootless network without a tool");
}

TEST_F(RootlessNetwork, OnlyTheDefaultNetwork) {
  ProcResult r = Comet({"run", "--net=backend", kImage, "--", "/bin/true"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "a rootless pod can only join the \"default\" network"))
      << r.Describe();
  ExpectNothingLeft("rootless network with a CNI network");
}

}  // namespace
}  // namespace comet::e2e::pod
