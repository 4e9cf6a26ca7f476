// NetPodTest: a network and mount namespace per test, network configs and state snapshots (see
// net_fixture.h).
#include "e2e/pod/net_fixture.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace comet::e2e::pod {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPinDir = "/run/comet/netns";

// strerror(errno) without strerror's shared buffer.
const char* ErrnoText() {
  const char* text = ::strerrordesc_np(errno);
  return text != nullptr ? text : "unknown error";
}

bool LoopbackUp() {
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    return false;
  }
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(sock, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(sock, SIOCSIFFLAGS, &req) == 0;
  ::close(sock);
  return ok;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::stringstream in(line);
  std::string word;
  while (in >> word) {
    words.push_back(word);
  }
  return words;
}

std::string MustRun(const std::vector<std::string>& argv) {
  ProcResult r = Exec(argv, {.timeout = 20s});
  EXPECT_EQ(r.exit_code, 0) << argv[0] << ": " << r.Describe();
  return r.out;
}

// Links by name and MAC (the operational state and carrier flags change on their own).
void AppendLinks(std::string& out) {
  for (const std::string& line : Lines(MustRun({"/usr/sbin/ip", "-o", "link", "show"}))) {
    std::vector<std::string> words = Words(line);
    if (words.size() < 2) {
      continue;
    }
    std::string mac;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i].rfind("link/", 0) == 0) {
        mac = words[i] + " " + words[i + 1];
      }
    }
    out += "link " + words[1] + " " + mac + "\n";
  }
  for (const std::string& line : Lines(MustRun({"/usr/sbin/ip", "-o", "addr", "show"}))) {
    std::vector<std::string> words = Words(line);
    if (words.size() > 3) {
      out += "addr " + words[1] + " " + words[3] + "\n";
    }
  }
}

void AppendRules(std::string& out) {
  static const std::regex kCounters(R"(\[\d+:\d+\])");
  for (const char* tool : {"/usr/sbin/iptables-save", "/usr/sbin/ip6tables-save"}) {
    for (const std::string& line : Lines(MustRun({tool}))) {
      if (!line.empty() && line[0] != '#') {
        out += fmt::format("rule {} {}\n", tool, std::regex_replace(line, kCounters, ""));
      }
    }
  }
}

// Listening TCP and bound UDP sockets of this network namespace (/proc/net is per netns).
void AppendSockets(std::string& out) {
  for (const char* table : {"tcp", "tcp6", "udp", "udp6"}) {
    const bool tcp = table[0] == 't';
    std::vector<std::string> lines = Lines(ReadFileOrEmpty(std::string("/proc/net/") + table));
    for (size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> words = Words(lines[i]);
      if (words.size() > 3 && (!tcp || words[3] == "0A")) {
        out += fmt::format("socket {} {}\n", table, words[1]);
      }
    }
  }
}

void AppendFiles(const std::string& dir, std::string& out) {
  std::error_code ec;
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Regular files only: host-local keeps a network's directory, by design.
    if (!it->is_regular_file(ec) || name == "lock" || name.rfind("last_reserved_ip", 0) == 0) {
      continue;
    }
    files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    out += "file " + f + "\n";
  }
}

}  // namespace

void NetPodTest::SetUp() {
  // setns(2) into the original mount namespace moves the process to its root: come back here.
  cwd_ = fs::current_path().string();
  original_net_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  original_mnt_ = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(original_net_, 0) << ErrnoText();
  ASSERT_GE(original_mnt_, 0) << ErrnoText();
  ASSERT_EQ(::unshare(CLONE_NEWNET | CLONE_NEWNS), 0)
      << "unshare(net|mnt): " << ErrnoText() << " (a multi-threaded test process?)";
  // Private, so that nothing this test mounts (pins, files over /etc) reaches the host.
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << ErrnoText();
  ASSERT_TRUE(LoopbackUp()) << ErrnoText();
  base_set_up_ = true;
  PodTest::SetUp();
  if (HasFatalFailure()) {
    return;
  }
  std::error_code ec;
  fs::create_directories(net_d(), ec);
  fs::create_directories(ipam_dir(), ec);
  WriteNetConfig(fs::path(default_conflist()).filename().string(),
                 BridgeConflist("default", kBridge, std::string(kSubnetPrefix) + "0/24"));
}

void NetPodTest::TearDown() {
  for (auto it = unmount_at_end_.rbegin(); it != unmount_at_end_.rend(); ++it) {
    EXPECT_EQ(::umount2(it->c_str(), MNT_DETACH), 0) << *it << ": " << ErrnoText();
  }
  unmount_at_end_.clear();
  if (base_set_up_) {
    const std::set<std::string> own = OwnPodUuids();
    PodTest::TearDown();
    std::vector<std::string> pins;
    for (const std::string& pin : OwnPins()) {
      pins.push_back(pin);
    }
    for (const std::string& uuid : own) {
      if (fs::exists(fmt::format("{}/{}", kPinDir, uuid))) {
        pins.push_back(fmt::format("{}/{}", kPinDir, uuid));
      }
    }
    EXPECT_TRUE(pins.empty()) << "at the end of the test: netns pins left: "
                              << fmt::format("{}", fmt::join(pins, ", "));
  }
  // Back to the namespaces the process started in: the test's one goes with its last user.
  if (original_mnt_ >= 0) {
    EXPECT_EQ(::setns(original_mnt_, CLONE_NEWNS), 0) << ErrnoText();
    ::close(original_mnt_);
    original_mnt_ = -1;
  }
  if (original_net_ >= 0) {
    EXPECT_EQ(::setns(original_net_, CLONE_NEWNET), 0) << ErrnoText();
    ::close(original_net_);
    original_net_ = -1;
  }
  std::error_code ec;
  fs::current_path(cwd_, ec);
}

ProcResult NetPodTest::Net(const std::vector<std::string>& args, ProcOptions options) {
  std::vector<std::string> full = {"--local-config=" + config_dir()};
  full.insert(full.end(), args.begin(), args.end());
  if (!args.empty() && (args[0] == "run" || args[0] == "prepare")) {
    full.insert(full.begin() + 2, "--set-env=COMET_E2E_MARK=" + marker());
  }
  return Comet(full, std::move(options));
}

std::string NetPodTest::NetOk(const std::vector<std::string>& args, ProcOptions options) {
  ProcResult r = Net(args, std::move(options));
  EXPECT_EQ(r.exit_code, 0) << fmt::format("comet {}: ", fmt::join(args, " ")) << r.Describe();
  return r.out;
}

std::string NetPodTest::NetRunDetached(const std::vector<std::string>& args) {
  std::vector<std::string> full = {"run", "-d"};
  full.insert(full.end(), args.begin(), args.end());
  ProcResult r = Net(full);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  static const std::regex kRe("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  const std::string uuid = Trim(r.out);
  return r.exit_code == 0 && std::regex_match(uuid, kRe) ? uuid : "";
}

std::string NetPodTest::BridgeConflist(const std::string& name, const std::string& bridge,
                                       const std::string& subnet, bool publish) const {
  nlohmann::json ipam = {{"type", "host-local"},
                         {"ranges", {{{{"subnet", subnet}}}}},
                         {"routes", {{{"dst", "0.0.0.0/0"}}}},
                         {"dataDir", ipam_dir()}};
  nlohmann::json plugins = nlohmann::json::array();
  plugins.push_back({{"type", "bridge"},
                     {"bridge", bridge},
                     {"isGateway", true},
                     {"ipMasq", true},
                     {"hairpinMode", true},
                     {"ipam", ipam}});
  if (publish) {
    plugins.push_back(
        {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}});
    plugins.push_back({{"type", "firewall"}});
  }
  return nlohmann::json{{"cniVersion", "1.0.0"}, {"name", name}, {"plugins", plugins}}.dump(2);
}

void NetPodTest::WriteNetConfig(const std::string& file, const std::string& text) const {
  WriteFileOrDie(net_d() + "/" + file, text);
}

std::string NetPodTest::PodIp4(const std::string& uuid, const std::string& network) {
  const std::string networks = Status(uuid)["networks"];
  const std::regex re("(^|,)" + network + R"(:ip4=([0-9.]+))");
  std::smatch m;
  return std::regex_search(networks, m, re) ? m[2].str() : "";
}

std::string NetPodTest::NetState(const std::vector<std::string>& extra_lease_dirs) const {
  std::string out;
  AppendLinks(out);
  AppendRules(out);
  AppendSockets(out);
  AppendFiles(ipam_dir(), out);
  for (const std::string& dir : extra_lease_dirs) {
    AppendFiles(dir, out);
  }
  for (const std::string& pin : OwnPins()) {
    out += "pin " + pin + "\n";
  }
  return out;
}

std::vector<std::string> NetPodTest::OwnPins() {
  // This mount namespace is private: a pin mounted here is one of this test's pods.
  std::vector<std::string> pins;
  const std::string prefix = std::string(kPinDir) + "/";
  for (const std::string& mount : MountsUnder(kPinDir)) {
    if (mount.rfind(prefix, 0) == 0) {
      pins.push_back(mount);
    }
  }
  return pins;
}

ProcResult Fetch(const std::string& url) {
  return Exec({"/bin/busybox", "wget", "-q", "-O", "-", url}, {.timeout = 15s});
}

ProcResult FetchWhenUp(const std::string& url, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ProcResult r;
  while ((r = Fetch(url)).exit_code != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  return r;
}

std::string NetPodTest::WebServer(const std::string& tag) {
  return fmt::format(
      "trap 'exit 0' TERM; mkdir -p /tmp/www; echo hello-{} > /tmp/www/index.html; "
      "httpd -f -vv -p 80 -h /tmp/www & {}",
      tag, kSleeper);
}

void NetPodTest::BindFileOver(const std::string& target, const std::string& content) {
  const std::string source = tmp() + "/bind-" + fs::path(target).filename().string();
  WriteFileOrDie(source, content);
  ASSERT_EQ(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), 0)
      << target << ": " << ErrnoText();
  unmount_at_end_.push_back(target);
}

bool NetPodTest::InSubnet(const std::string& ip, const std::string& prefix) {
  static const std::regex kIp4(R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})");
  return std::regex_match(ip, kIp4) && ip.rfind(prefix, 0) == 0;
}

}  // namespace comet::e2e::pod
