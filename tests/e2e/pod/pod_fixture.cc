// PodTest fixture, the busybox image, background and pty processes (see pod_fixture.h).
#include "e2e/pod/pod_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace comet::e2e::pod {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<os::TempDir>& ImageDir() {
  static std::unique_ptr<os::TempDir> dir;
  return dir;
}

void BuildBusybox() {
  if (ImageDir()) {
    return;
  }
  auto dir = os::TempDir::Create("comet-pod-e2e-image-");
  if (!dir) {
    (void)std::fprintf(stderr, "temp dir: %s\n", dir.error().ToString().c_str());
    std::abort();
  }
  ::chmod(dir->path().c_str(), 0755);
  const std::string script = R"(set -e
tree="$1/tree"
mkdir -p "$tree"
cd "$tree"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root run var/tmp home
chmod 1777 tmp var/tmp
cp /bin/busybox bin/busybox
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > etc/passwd
printf 'root:x:0:\nnobody:x:65534:\n' > etc/group
echo comet-e2e > etc/hostname
cd "$1"
tar --numeric-owner --owner=0 --group=0 -C tree -cf busybox.tar .
)";
  ProcResult r = Exec({"/bin/sh", "-c", script, "sh", dir->path()});
  if (r.exit_code != 0) {
    (void)std::fprintf(stderr, "building the busybox image: %s\n", r.Describe().c_str());
    std::abort();
  }
  ImageDir() = std::make_unique<os::TempDir>(std::move(*dir));
}

std::atomic<int> g_counter{0};

// execve(2)'s argv and envp (this process's environment plus `env`), built before fork since
// the child may only exec.
struct ExecVectors {
  ExecVectors(std::vector<std::string> args, const std::vector<std::string>& env)
      : storage(std::move(args)) {
    for (char** e = environ; *e != nullptr; ++e) {
      env_storage.emplace_back(*e);
    }
    env_storage.insert(env_storage.end(), env.begin(), env.end());
    for (auto& a : storage) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    for (auto& e : env_storage) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
  }
  std::vector<std::string> storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

}  // namespace

const std::string& CometBinary() {
  static const std::string kBinary = [] {
    const char* env = std::getenv("COMET");  // NOLINT(concurrency-mt-unsafe)
    return std::string(env != nullptr && *env != '\0' ? env : COMET_BINARY_DEFAULT);
  }();
  return kBinary;
}

std::string SupervisorBinary() {
  const char* env = std::getenv("COMET_SUPERVISOR");  // NOLINT(concurrency-mt-unsafe)
  if (env != nullptr && *env != '\0') {
    return env;
  }
  return (fs::path(CometBinary()).parent_path() / "comet-supervisor").string();
}

const std::string& BusyboxTree() {
  BuildBusybox();
  static const std::string kPath = ImageDir()->path() + "/tree";
  return kPath;
}

const std::string& BusyboxTarball() {
  BuildBusybox();
  static const std::string kPath = ImageDir()->path() + "/busybox.tar";
  return kPath;
}

std::map<std::string, std::string> ParseKv(const std::string& text) {
  std::map<std::string, std::string> kv;
  for (const std::string& line : Lines(text)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) {
      kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return kv;
}

int64_t ParseRfc3339Nanos(const std::string& text) {
  static const std::regex kRe(R"(^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.(\d{1,9}))?Z$)");
  std::smatch m;
  if (!std::regex_match(text, m, kRe)) {
    return -1;
  }
  struct tm tm {};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  const int64_t seconds = ::timegm(&tm);
  int64_t nanos = 0;
  if (m[8].matched) {
    std::string frac = m[8];
    frac.resize(9, '0');
    nanos = std::stoll(frac);
  }
  return seconds * 1000000000 + nanos;
}

bool LooksLikeRfc3339(const std::string& text) {
  return ParseRfc3339Nanos(text) > 0;
}

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return "";
  }
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool HaveCgroupV1(const std::string& controller) {
  struct stat st {};
  return ::stat(("/sys/fs/cgroup/" + controller + "/cgroup.procs").c_str(), &st) == 0;
}

// ---- Background ----

Background::Background(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& output_path)
    : output_path_(output_path) {
  ExecVectors exec(argv, env);
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(exec.argv[0], exec.argv.data(), exec.envp.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(in);
}

Background::~Background() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

std::string Background::Output() const {
  return ReadFileOrEmpty(output_path_);
}

namespace {

// Polls for `pid`'s exit every 20 ms (running `between` first each time) until it is reaped or
// `timeout` passes: its exit code, -signal, or kStillRunning.
int WaitPolling(pid_t pid, int& status, bool& reaped, std::chrono::milliseconds timeout,
                const std::function<void()>& between) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped) {
    between();
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      reaped = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return kStillRunning;
    }
    std::this_thread::sleep_for(20ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

int Background::Wait(std::chrono::milliseconds timeout) {
  return WaitPolling(pid_, status_, reaped_, timeout, [] {});
}

bool Background::Running() {
  return Wait(0ms) == kStillRunning;
}

// ---- PtyProcess ----

PtyProcess::PtyProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ExecVectors exec(argv, env);
  struct winsize ws {};
  ws.ws_row = 24;
  ws.ws_col = 80;
  pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
  if (pid_ == 0) {
    ::execve(exec.argv[0], exec.argv.data(), exec.envp.data());
    ::_exit(127);
  }
  if (master_ >= 0) {
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    ::fcntl(master_, F_SETFL, O_NONBLOCK);
  }
}

PtyProcess::~PtyProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  if (master_ >= 0) {
    ::close(master_);
  }
}

void PtyProcess::Write(const std::string& data) const {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(master_, data.data() + done, data.size() - done);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      std::this_thread::sleep_for(5ms);
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}

bool PtyProcess::ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (Contains(transcript_, needle)) {
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    struct pollfd pfd = {master_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100))) > 0) {
      char buf[4096];
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n > 0) {
        transcript_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno == EIO)) {
        // The slave side closed (the process exited): nothing more will come.
        if (!Contains(transcript_, needle)) {
          std::this_thread::sleep_for(20ms);
          if (Wait(0ms) != kStillRunning) {
            return false;
          }
        }
      }
    }
  }
}

int PtyProcess::Wait(std::chrono::milliseconds timeout) {
  // Drain output so that the process never blocks on a full pty buffer.
  return WaitPolling(pid_, status_, reaped_, timeout, [this] {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(master_, buf, sizeof buf)) > 0) {
      transcript_.append(buf, static_cast<size_t>(n));
    }
  });
}

// ---- PodTest ----

void PodTest::SetUp() {
  auto dir = os::TempDir::Create("comet-pod-e2e-");
  ASSERT_TRUE(dir) << dir.error().ToString();
  tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
  ::chmod(tmp_->path().c_str(), 0755);
  data_ = tmp_->path() + "/data";
  marker_ = fmt::format("pod-e2e-{}-{}-{}", ::getpid(), g_counter++, ::time(nullptr));
  cgroups_before_ = PodCgroups();
  volatile_before_ = VolatileDirs();
  ProcResult imported =
      Comet({"image", "import", "--format", "rootfs", "--name", kImage, BusyboxTarball()});
  ASSERT_EQ(imported.exit_code, 0) << "importing busybox: " << imported.Describe();
}

void PodTest::TearDown() {
  if (!tmp_) {
    return;
  }
  CleanUpAndExpectNothingLeft("at the end of the test");
  // Last resort, so that one broken test does not break the next ones or the machine: kill
  // what is left, collect again, remove empty pod cgroups that appeared during the test.
  std::vector<pid_t> left = MarkedProcesses();
  for (pid_t pid : left) {
    ::kill(pid, SIGKILL);
  }
  if (!left.empty() || !PodDirs().empty()) {
    WaitUntil([&] { return MarkedProcesses().empty(); }, 5s);
    for (int i = 0; i < 2; ++i) {
      (void)Comet({"gc", "--grace-period=0s", "--expire-prepared=0s"}, {.timeout = 60s});
    }
  }
  const std::set<std::string> own = OwnPodUuids();
  for (const std::string& cg : PodCgroups()) {
    if (!cgroups_before_.contains(cg) && IsOwnPodCgroup(cg, own)) {
      // rmdir(2) removes a cgroup without processes (its files do not count).
      (void)Exec({"find", cg, "-depth", "-type", "d", "-exec", "rmdir", "{}", "+"});
    }
  }
  std::vector<std::string> mounts = MountsUnder(tmp_->path());
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    ::umount2(it->c_str(), MNT_DETACH);
  }
  tmp_.reset();
}

namespace {

// `run`, `prepare` and `app sandbox` put a pod on the default network unless --net says
// otherwise: a bridge and firewall rules in the namespace comet runs in. Tests run comet in the
// machine's own network namespace, where nothing of the kind may go (only the network tests,
// which make a namespace of their own first, ask for networks): --net=none unless the test gave
// a --net.
void WithoutNetworkUnlessAsked(std::vector<std::string>& args) {
  size_t command = 0;
  while (command < args.size() && args[command].starts_with("--")) {
    ++command;  // global flags (--local-config=...)
  }
  size_t after = command + 1;
  if (command < args.size() && args[command] == "app" && after < args.size() &&
      args[after] == "sandbox") {
    ++after;
  } else if (command >= args.size() || (args[command] != "run" && args[command] != "prepare")) {
    return;
  }
  for (const std::string& arg : args) {
    if (arg == "--" || arg == "---") {
      break;
    }
    if (arg.starts_with("--net=") || arg == "--net") {
      return;
    }
  }
  args.insert(args.begin() + static_cast<std::ptrdiff_t>(after), "--net=none");
}

}  // namespace

ProcResult PodTest::CometWith(const std::string& binary, std::vector<std::string> args,
                              ProcOptions options) {
  if (!args.empty() && (args[0] == "run" || args[0] == "prepare")) {
    args.insert(args.begin() + 1, "--set-env=COMET_E2E_MARK=" + marker_);
  }
  WithoutNetworkUnlessAsked(args);
  args.insert(args.begin(), {binary, "--dir=" + data_});
  options.env.push_back("COMET_E2E_MARK=" + marker_);
  return Exec(args, options);
}

ProcResult PodTest::Comet(std::vector<std::string> args, ProcOptions options) {
  return CometWith(CometBinary(), std::move(args), std::move(options));
}

std::string PodTest::Ok(const std::vector<std::string>& args, ProcOptions options) {
  ProcResult r = Comet(args, std::move(options));
  std::string command;
  for (const auto& a : args) {
    command += a + " ";
  }
  EXPECT_EQ(r.exit_code, 0) << "comet " << command << ": " << r.Describe();
  return r.out;
}

std::string PodTest::RunDetached(const std::vector<std::string>& args, ProcOptions options) {
  std::vector<std::string> full = {"run", "-d"};
  full.insert(full.end(), args.begin(), args.end());
  ProcResult r = Comet(full, std::move(options));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  const std::string uuid = Trim(r.out);
  static const std::regex kRe("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  EXPECT_TRUE(std::regex_match(uuid, kRe)) << "run -d printed: " << r.out;
  return r.exit_code == 0 && std::regex_match(uuid, kRe) ? uuid : "";
}

std::map<std::string, std::string> PodTest::Status(const std::string& uuid) {
  ProcResult r = Comet({"status", uuid});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  return ParseKv(r.out);
}

std::vector<std::string> PodTest::PodDirs() const {
  std::vector<std::string> dirs;
  std::error_code ec;
  const std::string pods = data_ + "/pods";
  if (!fs::exists(pods, ec)) {
    return dirs;
  }
  for (const auto& phase : fs::directory_iterator(pods, ec)) {
    if (!phase.is_directory()) {
      continue;
    }
    for (const auto& pod : fs::directory_iterator(phase.path(), ec)) {
      dirs.push_back(phase.path().filename().string() + "/" + pod.path().filename().string());
    }
  }
  return dirs;
}

std::string PodTest::PodPath(const std::string& uuid) const {
  for (const std::string& dir : PodDirs()) {
    if (dir.size() > uuid.size() && dir.substr(dir.size() - uuid.size()) == uuid &&
        dir[dir.size() - uuid.size() - 1] == '/') {
      return data_ + "/pods/" + dir;
    }
  }
  return "";
}

nlohmann::json PodTest::AppStatus(const std::string& uuid, const std::string& app) const {
  const std::string text = ReadFileOrEmpty(PodPath(uuid) + "/state/apps/" + app + "/status.json");
  return nlohmann::json::parse(text, nullptr, false);
}

std::string PodTest::LogFile(const std::string& uuid, const std::string& app) const {
  return PodPath(uuid) + "/logs/" + app + ".log";
}

bool PodTest::WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

std::vector<pid_t> PodTest::MarkedProcesses() const {
  std::vector<pid_t> pids;
  const std::string needle = "COMET_E2E_MARK=" + marker_;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return pids;
  }
  while (struct dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == ::getpid()) {
      continue;
    }
    const std::string environ_text = ReadFileOrEmpty(fmt::format("/proc/{}/environ", pid));
    // Entries are NUL-separated: match a whole entry.
    size_t at = 0;
    while ((at = environ_text.find(needle, at)) != std::string::npos) {
      const bool starts = at == 0 || environ_text[at - 1] == '\0';
      const size_t after = at + needle.size();
      const bool ends = after == environ_text.size() || environ_text[after] == '\0';
      if (starts && ends) {
        // Zombies have an empty environment, so this one is alive.
        pids.push_back(static_cast<pid_t>(pid));
        break;
      }
      at = after;
    }
  }
  ::closedir(proc);
  return pids;
}

std::vector<std::string> PodTest::MountsUnder(const std::string& prefix) {
  std::vector<std::string> mounts;
  for (const std::string& line : Lines(ReadFileOrEmpty("/proc/self/mountinfo"))) {
    std::stringstream in(line);
    std::string id;
    std::string parent;
    std::string devno;
    std::string root;
    std::string point;
    in >> id >> parent >> devno >> root >> point;
    if (point == prefix || point.rfind(prefix + "/", 0) == 0) {
      mounts.push_back(point);
    }
  }
  return mounts;
}

std::string PodTest::VolatileRoot() {
  if (::geteuid() == 0) {
    return "/run/comet/pods";
  }
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");  // NOLINT(concurrency-mt-unsafe)
  if (xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/comet/pods";
  }
  return fmt::format("/tmp/comet-{}/pods", ::getuid());
}

std::set<std::string> PodTest::OwnPodUuids() const {
  std::set<std::string> uuids;
  static const std::regex kId(
      R"re("id":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")re");
  const std::string log =
      ReadFileOrEmpty(data_ + "/events/log.1") + ReadFileOrEmpty(data_ + "/events/log");
  for (std::sregex_iterator it(log.begin(), log.end(), kId), end; it != end; ++it) {
    uuids.insert((*it)[1].str());
  }
  for (const std::string& dir : PodDirs()) {
    uuids.insert(dir.substr(dir.find('/') + 1));
  }
  return uuids;
}

bool PodTest::IsOwnPodCgroup(const std::string& cgroup, const std::set<std::string>& uuids) {
  const std::string name = fs::path(cgroup).filename().string();
  return name.rfind("pod-", 0) == 0 && uuids.contains(name.substr(4));
}

std::set<std::string> PodTest::VolatileDirs() {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(VolatileRoot(), error)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

std::set<std::string> PodTest::PodCgroups() {
  std::set<std::string> found;
  std::error_code ec;
  if (!fs::exists("/sys/fs/cgroup", ec)) {
    return found;
  }
  // comet/ may sit below the caller's own group: look a few levels down for "comet" dirs.
  std::function<void(const fs::path&, int)> walk = [&](const fs::path& dir, int depth) {
    std::error_code walk_ec;
    for (const auto& entry : fs::directory_iterator(dir, walk_ec)) {
      if (!entry.is_directory(walk_ec) || entry.is_symlink(walk_ec)) {
        continue;
      }
      const std::string name = entry.path().filename().string();
      if (name == "comet") {
        for (const auto& pod : fs::directory_iterator(entry.path(), walk_ec)) {
          if (pod.path().filename().string().rfind("pod-", 0) == 0) {
            found.insert(pod.path().string());
          }
        }
      } else if (depth < 3) {
        walk(entry.path(), depth + 1);
      }
    }
  };
  for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    if (hierarchy.is_directory(ec) && !hierarchy.is_symlink(ec)) {
      walk(hierarchy.path(), 0);
    }
  }
  return found;
}

std::string PodTest::FindCgroupDir(const std::string& controller, const std::string& relative) {
  std::error_code ec;
  const fs::path root = "/sys/fs/cgroup/" + controller;
  if (fs::exists(root.string() + relative, ec)) {
    return root.string() + relative;
  }
  // Nested: comet creates its groups relative to its own group.
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      break;
    }
    if (it.depth() > 4) {
      it.disable_recursion_pending();
      continue;
    }
    std::string path = it->path().string();
    if (path.size() > relative.size() &&
        path.compare(path.size() - relative.size(), relative.size(), relative) == 0) {
      return path;
    }
  }
  return "";
}

void PodTest::CleanUpAndExpectNothingLeft(const std::string& context) {
  for (const std::string& dir : PodDirs()) {
    if (dir.rfind("run/", 0) == 0) {
      ProcResult stop = Comet({"stop", "--force", dir.substr(4)}, {.timeout = 20s});
      (void)stop;
    }
  }
  for (int i = 0; i < 2; ++i) {
    ProcResult gc = Comet({"gc", "--grace-period=0s", "--expire-prepared=0s"}, {.timeout = 120s});
    EXPECT_EQ(gc.exit_code, 0) << context << ": gc: " << gc.Describe();
  }
  ExpectNothingLeft(context);
}

void PodTest::ExpectNothingLeft(const std::string& context) {
  std::vector<std::string> dirs = PodDirs();
  EXPECT_TRUE(dirs.empty()) << context << ": pod directories left: "
                            << fmt::format("{}", fmt::join(dirs, ", "));
  std::vector<std::string> mounts = MountsUnder(tmp_->path());
  EXPECT_TRUE(mounts.empty()) << context
                              << ": mounts left: " << fmt::format("{}", fmt::join(mounts, ", "));
  // Processes may take a moment to be reaped after their pod went away.
  std::vector<pid_t> pids;
  WaitUntil([&] { return (pids = MarkedProcesses()).empty(); }, 5s);
  std::string described;
  for (pid_t pid : pids) {
    std::string cmdline = ReadFileOrEmpty(fmt::format("/proc/{}/cmdline", pid));
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    described += fmt::format("{} ({}); ", pid, cmdline);
  }
  EXPECT_TRUE(pids.empty()) << context << ": processes left: " << described;
  // New pod cgroups; others' tests may create short-lived ones, so look twice. Only this user's
  // count: a rootless run cannot have made root's (root tests running at the same time do).
  std::set<std::string> leaked;
  const std::set<std::string> own = OwnPodUuids();
  WaitUntil(
      [&] {
        leaked.clear();
        for (const std::string& cg : PodCgroups()) {
          struct stat st {};
          const bool ours = ::stat(cg.c_str(), &st) == 0 && st.st_uid == ::geteuid();
          if (ours && !cgroups_before_.contains(cg) && IsOwnPodCgroup(cg, own)) {
            leaked.insert(cg);
          }
        }
        return leaked.empty();
      },
      3s);
  EXPECT_TRUE(leaked.empty()) << context
                              << ": cgroups left: " << fmt::format("{}", fmt::join(leaked, ", "));
  // New volatile directories (others' pods may come and go meanwhile: look twice).
  std::set<std::string> left;
  WaitUntil(
      [&] {
        left.clear();
        for (const std::string& name : VolatileDirs()) {
          if (!volatile_before_.contains(name) && own.contains(name)) {
            left.insert(name);
          }
        }
        return left.empty();
      },
      3s);
  EXPECT_TRUE(left.empty()) << context << ": volatile directories left in " << VolatileRoot()
                            << ": " << fmt::format("{}", fmt::join(left, ", "));
}

std::vector<std::string> PodTest::HostVolume(const std::string& source, const std::string& target) {
  return {"--volume=v,kind=host,source=" + source, "--mount=volume=v,target=" + target};
}

std::vector<std::string> PodTest::ShellApp(const std::string& name, const std::string& script,
                                           const std::vector<std::string>& flags) {
  std::vector<std::string> app = {kImage, "--name=" + name};
  app.insert(app.end(), flags.begin(), flags.end());
  app.insert(app.end(), {"--", "/bin/sh", "-c", script});
  return app;
}

std::vector<std::string> PodTest::Concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (auto& part : parts) {
    all.insert(all.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  return all;
}

std::string PodTest::HostDir(const std::string& name) {
  std::string path = tmp_->path() + "/" + name;
  std::error_code ec;
  fs::create_directories(path, ec);
  ::chmod(path.c_str(), 0777);
  return path;
}

}  // namespace comet::e2e::pod
