// Privileged tests on this machine's REAL cgroup hierarchies (v1 controllers, and the core of
// v2 on the hybrid unified mount): limits, freezing, killing, OOM, device programs, cleanup.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "base/scope_exit.h"
#include "base/strings.h"
#include "cgroup/fake_tree.h"
#include "cgroup/manager.h"
#include "os/file.h"
#include "testing/in_child.h"

namespace comet::cgroup {
namespace {

using testing::Read;

std::string UniqueName(const char* what) {
  static int counter = 0;
  return std::string("comet-test-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++counter);
}

// A forked child that blocks until Go(), then runs `body` and exits with its result.
class Child {
 public:
  explicit Child(int (*body)(volatile uint64_t*)) {
    counter_ = static_cast<volatile uint64_t*>(::mmap(
        nullptr, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      char c;
      ::close(fds[1]);
      if (::read(fds[0], &c, 1) != 1) {
        ::_exit(100);
      }
      ::_exit(body(counter_));
    }
    ::close(fds[0]);
    go_fd_ = fds[1];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&&) = delete;
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (go_fd_ >= 0) {
      ::close(go_fd_);
    }
    ::munmap(const_cast<uint64_t*>(counter_), sizeof(uint64_t));
  }
  pid_t pid() const { return pid_; }
  uint64_t counter() const { return *counter_; }
  void Go() const { ASSERT_EQ(::write(go_fd_, "x", 1), 1); }
  // Waits for the child; returns the raw wait status.
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
  volatile uint64_t* counter_ = nullptr;
};

int Spin(volatile uint64_t* counter) {
  for (;;) {
    *counter = *counter + 1;
  }
}

// True when the counter does not move for 200 ms.
bool Stalled(const Child& child) {
  uint64_t before = child.counter();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return child.counter() == before;
}

Result<Layout> RealV1() {
  if (!comet::testing::IsRoot()) {
    return Err(Error::Invalid("needs root"));
  }
  ASSIGN_OR_RETURN(Layout layout, DetectLayout());
  if (layout.version != Version::kV1) {
    return Err(Error::NotFound("not a cgroup v1 host"));
  }
  return layout;
}

TEST(V1Real, LimitsFreezeKillDestroy) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  std::string name = UniqueName("v1");
  ASSERT_TRUE(CanWrite(*layout, name, "id"));
  auto m = Manager::Create(*layout, name, "id");
  ASSERT_TRUE(m) << m.error().ToString();
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  auto paths = (*m)->Paths();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  r.cpu = oci::CpuResources{};
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->shares = 256;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{32};
  r.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, "c", 1, 3, "rwm"});
  auto st = (*m)->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(Read(paths.at("memory"), "memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(Read(paths.at("cpu"), "cpu.cfs_quota_us"), "50000\n");
  EXPECT_EQ(Read(paths.at("cpu"), "cpu.shares"), "256\n");
  EXPECT_EQ(Read(paths.at("cpuset"), "cpuset.cpus"), "0\n");
  EXPECT_EQ(Read(paths.at("pids"), "pids.max"), "32\n");
  EXPECT_EQ(Read(paths.at("devices"), "devices.list"), "c 1:3 rwm\n");
  // A smaller quota with a smaller period, then back: both orders need to work.
  r = {};
  r.cpu = oci::CpuResources{};
  r.cpu->quota = 5000;
  r.cpu->period = 10000;
  ASSERT_TRUE((*m)->Apply(r));
  r.cpu->quota = 900000;
  r.cpu->period = 1000000;
  st = (*m)->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(Read(paths.at("cpu"), "cpu.cfs_period_us"), "1000000\n");

  Child child(Spin);
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  std::string self_cgroup = *os::ReadFile("/proc/" + std::to_string(child.pid()) + "/cgroup");
  EXPECT_NE(self_cgroup.find("pids:/" + name), std::string::npos) << self_cgroup;
  EXPECT_NE(self_cgroup.find("memory:"), std::string::npos);
  EXPECT_EQ(*(*m)->Pids(), std::vector<pid_t>{child.pid()});

  ASSERT_TRUE((*m)->Freeze());
  EXPECT_TRUE(*(*m)->IsFrozen());
  EXPECT_EQ(Read(paths.at("freezer"), "freezer.state"), "FROZEN\n");
  EXPECT_TRUE(Stalled(child));
  ASSERT_TRUE((*m)->Thaw());
  EXPECT_FALSE(*(*m)->IsFrozen());
  EXPECT_FALSE(Stalled(child));

  ASSERT_TRUE((*m)->KillAll(SIGKILL));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_TRUE((*m)->Destroy());
  for (const auto& [controller, dir] : paths) {
    EXPECT_FALSE(os::Exists(dir)) << controller;
  }
  EXPECT_TRUE((*m)->Destroy());  // missing groups are fine
}

TEST(V1Real, ErrorsNameFileAndValue) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  auto m = Manager::Create(*layout, UniqueName("err"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  oci::Resources r;
  r.cpu = oci::CpuResources{};
  r.cpu->cpus = "abc";
  auto st = (*m)->Apply(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().ToString(), "setting cpuset.cpus to \"abc\": Invalid argument");
  EXPECT_TRUE((*m)->Destroy());
}

TEST(V1Real, KillAllOfFrozenGroupAndDestroyWithTasks) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  auto m = Manager::Create(*layout, UniqueName("frozen"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  Child a(Spin);
  Child b(Spin);
  ASSERT_TRUE((*m)->AddProcess(a.pid()));
  ASSERT_TRUE((*m)->AddProcess(b.pid()));
  a.Go();
  b.Go();
  ASSERT_TRUE((*m)->Freeze());
  auto paths = (*m)->Paths();
  auto reopened = Manager::Open(*layout, paths);  // as a later `comet-runtime delete` does
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(*(*reopened)->IsFrozen());
  ASSERT_TRUE((*reopened)->Destroy());  // kills through the freezer, then removes
  EXPECT_TRUE(WIFSIGNALED(a.Wait()));
  EXPECT_TRUE(WIFSIGNALED(b.Wait()));
  for (const auto& [controller, dir] : paths) {
    EXPECT_FALSE(os::Exists(dir)) << controller;
  }
}

// In the group: fork fails with EAGAIN (pids.max 1) and only CPU 0 is usable (cpuset).
int CheckLimits(volatile uint64_t* /*counter*/) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(0);
  }
  if (pid > 0) {
    ::waitpid(pid, nullptr, 0);
    return 1;
  }
  if (errno != EAGAIN) {
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) != 1 ||
      !CPU_ISSET(0, &set)) {
    return 3;
  }
  return 0;
}

TEST(V1Real, LimitsAreEnforced) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  auto m = Manager::Create(*layout, UniqueName("enforce"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  oci::Resources r;
  r.pids = oci::PidsResources{1};
  r.cpu = oci::CpuResources{};
  r.cpu->cpus = "0";
  ASSERT_TRUE((*m)->Apply(r));
  Child child(CheckLimits);
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << status << " (1: fork worked, 2: fork failed oddly, 3: affinity not {0})";
}

TEST(V1Real, OomKillsTheChild) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  auto m = Manager::Create(*layout, UniqueName("oom"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 16 << 20;
  r.memory->swap = 16 << 20;  // no swapping out of the OOM (skipped if swap accounting is off)
  auto st = (*m)->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  Child child([](volatile uint64_t* /*counter*/) {
    const size_t size = 64 << 20;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return 2;
    }
    std::memset(p, 1, size);
    return 0;
  });
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE((*m)->Destroy());
}

TEST(V1Real, CreateRollsBackEveryHierarchy) {
  auto layout = RealV1();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  std::string name = UniqueName("rollback");
  // cgroup_mkdir refuses names with a newline, after the parent levels were made.
  auto m = Manager::Create(*layout, name + "/a/bad\nname", "id");
  ASSERT_FALSE(m);
  for (const auto& [controller, root] : layout->v1_roots) {
    std::string self =
        layout->self_paths.contains(controller) ? layout->self_paths.at(controller) : "/";
    EXPECT_FALSE(os::Exists(os::JoinPath(os::JoinPath(root, self), name))) << controller;
  }
}

// cgroup v2 core on the hybrid unified mount (no controllers there, but freeze, kill, procs and
// device programs work).
Result<Layout> RealUnified() {
  if (!comet::testing::IsRoot()) {
    return Err(Error::Invalid("needs root"));
  }
  ASSIGN_OR_RETURN(Layout detected, DetectLayout());
  if (detected.unified_root.empty()) {
    return Err(Error::NotFound("no cgroup2 mount"));
  }
  Layout layout;
  layout.version = Version::kV2;
  layout.unified_root = detected.unified_root;
  layout.self_paths[""] = detected.self_paths.contains("") ? detected.self_paths.at("") : "/";
  return layout;
}

// Creating a v2 group enables the available controllers in its ancestors' subtree_control. On
// this hybrid host that is the real unified root, shared with every other runtime (crun refuses
// to run while a controller is enabled there): put the ancestors back as they were.
class SubtreeControlRestorer {
 public:
  explicit SubtreeControlRestorer(const Layout& layout) {
    std::string dir = layout.unified_root;
    std::string self = layout.self_paths.contains("") ? layout.self_paths.at("") : "/";
    saved_.emplace_back(dir, Words(dir));
    for (const std::string& part : Split(self, '/')) {
      if (!part.empty()) {
        dir = os::JoinPath(dir, part);
        saved_.emplace_back(dir, Words(dir));
      }
    }
  }
  SubtreeControlRestorer(const SubtreeControlRestorer&) = delete;
  SubtreeControlRestorer& operator=(const SubtreeControlRestorer&) = delete;
  SubtreeControlRestorer(SubtreeControlRestorer&&) = delete;
  SubtreeControlRestorer& operator=(SubtreeControlRestorer&&) = delete;
  ~SubtreeControlRestorer() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      for (const std::string& controller : Words(it->first)) {
        if (!it->second.contains(controller)) {
          (void)os::WriteFile(os::JoinPath(it->first, "cgroup.subtree_control"), "-" + controller);
        }
      }
    }
  }

 private:
  static std::set<std::string> Words(const std::string& dir) {
    std::set<std::string> words;
    auto text = os::ReadFile(os::JoinPath(dir, "cgroup.subtree_control"));
    for (const std::string& word : Split(text ? *text : "", ' ')) {
      std::string_view trimmed = TrimSpace(word);
      if (!trimmed.empty()) {
        words.emplace(trimmed);
      }
    }
    return words;
  }

  std::vector<std::pair<std::string, std::set<std::string>>> saved_;
};

TEST(V2Real, FreezeKillDestroy) {
  auto layout = RealUnified();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  SubtreeControlRestorer restore_subtree_control(*layout);
  auto m = Manager::Create(*layout, UniqueName("v2"), "id");
  ASSERT_TRUE(m) << m.error().ToString();
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  std::string dir = (*m)->Paths().at("");
  Child child(Spin);
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  EXPECT_EQ(*(*m)->Pids(), std::vector<pid_t>{child.pid()});
  ASSERT_TRUE((*m)->Freeze());
  EXPECT_TRUE(*(*m)->IsFrozen());
  EXPECT_TRUE(Stalled(child));
  ASSERT_TRUE((*m)->Thaw());
  EXPECT_FALSE(Stalled(child));
  ASSERT_TRUE((*m)->KillAll(SIGKILL));  // cgroup.kill
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_TRUE((*m)->Destroy());
  EXPECT_FALSE(os::Exists(dir));
}

TEST(V2Real, SigtermThroughTheFreezer) {
  auto layout = RealUnified();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  SubtreeControlRestorer restore_subtree_control(*layout);
  auto m = Manager::Create(*layout, UniqueName("v2term"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  Child child(Spin);
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  ASSERT_TRUE((*m)->KillAll(SIGTERM));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_FALSE(*(*m)->IsFrozen());
  EXPECT_TRUE((*m)->Destroy());
}

int OpenDevices(volatile uint64_t* /*counter*/) {
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  int zero_errno = errno;
  if (null_fd < 0) {
    return 1;
  }
  if (zero_fd >= 0 || zero_errno != EPERM) {
    return 2;
  }
  return 0;
}

TEST(V2Real, DeviceProgramRestrictsAccess) {
  auto layout = RealUnified();
  if (!layout) {
    GTEST_SKIP() << layout.error().ToString();
  }
  SubtreeControlRestorer restore_subtree_control(*layout);
  auto m = Manager::Create(*layout, UniqueName("v2dev"), "id");
  ASSERT_TRUE(m);
  ScopeExit guard([&] { (void)(*m)->Destroy(); });  // nothing left behind on failure
  oci::Resources r;
  r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
  r.devices.push_back({true, "c", 1, 5, "rwm"});  // replaced by the second Apply
  auto st = (*m)->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  r.devices.back().minor = 3;  // an update: the old program must go
  st = (*m)->Apply(r);
  ASSERT_TRUE(st) << st.error().ToString();
  Child child(OpenDevices);
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: /dev/null denied, 2: /dev/zero not denied";
  EXPECT_TRUE((*m)->Destroy());
}

}  // namespace
}  // namespace comet::cgroup
