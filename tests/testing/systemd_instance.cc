// SystemdInstance: the cgroups and the clone of PID 1 here; the mounts and the exec of systemd
// in systemd_boot.sh (run as that PID 1); readiness asked of systemd over its system bus.
#include "testing/systemd_instance.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::testing {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kBootScript = COMET_SYSTEMD_BOOT_SCRIPT;
constexpr const char* kGroupPrefix = "comet-systemd-";
constexpr const char* kBootUnit = "basic.target";
constexpr milliseconds kPollInterval{10};

// One line of /proc/self/cgroup and the host directory of its group.
struct Hierarchy {
  std::string controllers;  // "cpu", "name=systemd", "" for the unified (v2) hierarchy
  std::string dir;          // where the caller's group is, on the host
};

// The mount point and root of every cgroup and cgroup2 mount in /proc/self/mountinfo, keyed by
// the controllers as /proc/self/cgroup spells them.
Result<std::vector<std::pair<std::string, std::string>>> CgroupMountFor(
    const std::string& mountinfo, const std::string& controllers) {
  std::vector<std::pair<std::string, std::string>> found;  // {mount point, root}
  for (const std::string& line : Split(mountinfo, '\n')) {
    // "36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:1 - cgroup cgroup rw,cpu"
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) {
      continue;
    }
    std::vector<std::string> head = Split(line.substr(0, dash), ' ');
    std::vector<std::string> tail = Split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) {
      continue;
    }
    const std::string& fstype = tail[0];
    bool match = false;
    if (controllers.empty()) {
      match = fstype == "cgroup2";
    } else if (fstype == "cgroup") {
      std::vector<std::string> options = Split(tail[2], ',');
      match = std::ranges::all_of(Split(controllers, ','), [&](const std::string& c) {
        return std::ranges::find(options, c) != options.end();
      });
    }
    if (match) {
      found.emplace_back(head[4], head[3]);
    }
  }
  return found;
}

Result<std::vector<Hierarchy>> CallerHierarchies() {
  ASSIGN_OR_RETURN(std::string self, os::ReadFile("/proc/self/cgroup"));
  ASSIGN_OR_RETURN(std::string mountinfo, os::ReadFile("/proc/self/mountinfo"));
  std::vector<Hierarchy> out;
  for (const std::string& line : Split(self, '\n')) {
    if (line.empty()) {
      continue;
    }
    // "4:memory:/process_api/04cd..."
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
      return Err(Error::Invalid(fmt::format("/proc/self/cgroup: bad line '{}'", line)));
    }
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    ASSIGN_OR_RETURN(auto mounts, CgroupMountFor(mountinfo, controllers));
    std::string dir;
    for (const auto& [mount_point, root] : mounts) {
      if (root == "/") {
        dir = path == "/" ? mount_point : mount_point + path;
        break;
      }
      if (path == root || StartsWith(path, root + "/")) {
        dir = mount_point + path.substr(root.size());
        break;
      }
    }
    if (dir.empty()) {
      return Err(Error::NotFound(fmt::format(
          "no mount of the cgroup hierarchy '{}' shows the group {}", controllers, path)));
    }
    out.push_back({controllers, dir});
  }
  return out;
}

// rmdir of a cgroup and the groups below it, deepest first. A group may stay busy for a moment
// after its last process is reaped: retried until `deadline`.
Status RemoveGroupTree(const std::string& dir, Clock::time_point deadline) {
  std::error_code ec;
  std::vector<std::string> children;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
      children.push_back(entry.path().string());
    }
  }
  if (ec == std::errc::no_such_file_or_directory) {
    return Ok();
  }
  for (const std::string& child : children) {
    RETURN_IF_ERROR(RemoveGroupTree(child, deadline));
  }
  while (::rmdir(dir.c_str()) != 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    if (errno != EBUSY || Clock::now() > deadline) {
      return Err(Error::FromErrno("rmdir", dir));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return Ok();
}

// Groups of instances whose test process died without stopping them (comet-systemd-<pid>-<n>,
// <pid> gone) would pile up: removed when their processes are gone too (else left alone).
void RemoveStaleGroups(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (!StartsWith(name, kGroupPrefix)) {
      continue;
    }
    std::string rest = name.substr(std::strlen(kGroupPrefix));
    auto pid = ParseInt(rest.substr(0, rest.find('-')));
    if (pid && *pid > 0 && ::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH) {
      (void)RemoveGroupTree(entry.path().string(), Clock::now());
    }
  }
}

// sd-bus handles, released when leaving the scope.
struct BusUnref {
  void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;

// Manager.SystemState over the bus at `address`: "starting", "running", "degraded"...
Result<std::string> QuerySystemState(const std::string& address) {
  sd_bus* raw = nullptr;
  int r = sd_bus_new(&raw);
  if (r < 0) {
    return Err(Error::FromCode(-r, "sd_bus_new"));
  }
  BusPtr bus(raw);
  if ((r = sd_bus_set_address(bus.get(), address.c_str())) < 0 ||
      (r = sd_bus_set_bus_client(bus.get(), 1)) < 0 ||
      (r = sd_bus_set_method_call_timeout(bus.get(), 2'000'000)) < 0 ||
      (r = sd_bus_start(bus.get())) < 0) {
    return Err(Error::FromCode(-r, "connecting to", address));
  }
  sd_bus_error error{};  // SD_BUS_ERROR_NULL, without its C99 compound literal
  char* state = nullptr;
  r = sd_bus_get_property_string(bus.get(), "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                 "org.freedesktop.systemd1.Manager", "SystemState", &error, &state);
  if (r < 0) {
    Error err(-r, fmt::format("SystemState: {}: {}", error.name != nullptr ? error.name : "?",
                              error.message != nullptr ? error.message : ""));
    sd_bus_error_free(&error);
    return Err(std::move(err));
  }
  std::string out(state);
  free(state);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory): sd-bus's
  return out;
}

// Units that start: the system bus and the journal (the rest of basic.target is targets, slices
// and mounts already there).
constexpr std::array<std::string_view, 5> kKeptUnits = {
    "dbus.socket", "dbus.service", "systemd-journald.service", "systemd-journald.socket",
    "systemd-journald-dev-log.socket"};

// Adds a symlink `dir`/`name` -> `target` unless one is there already.
Status Symlink(const std::string& target, const std::string& dir, const std::string& name) {
  std::string path = os::JoinPath(dir, name);
  if (::symlink(target.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    return Err(Error::FromErrno("symlink", path));
  }
  return Ok();
}

// The instance's changes to the host's files, copied over its root by systemd_boot.sh: the host
// enables many units (timers like apt-daily, postgresql, podman, getty, logind...) and has
// generators (fstab, sysv, getty...) that must not run in a test's systemd, so every unit in a
// .wants directory but kKeptUnits is masked and every generator is disabled; the instance
// boots in well under a second that way. An empty machine-id makes systemd make a transient one
// (the host's stays the host's), which dbus reads too.
Status SeedRoot(const std::string& seed) {
  std::string units = os::JoinPath(seed, "etc/systemd/system");
  std::string generators = os::JoinPath(seed, "etc/systemd/system-generators");
  RETURN_IF_ERROR(os::MkdirAll(units));
  RETURN_IF_ERROR(os::MkdirAll(generators));
  std::error_code ec;
  for (const char* unit_dir : {"/etc/systemd/system", "/usr/lib/systemd/system"}) {
    for (const auto& wants : std::filesystem::directory_iterator(unit_dir, ec)) {
      std::string dir = wants.path().filename().string();
      if (dir.size() < 6 || dir.substr(dir.size() - 6) != ".wants") {
        continue;
      }
      std::error_code inner;
      for (const auto& unit : std::filesystem::directory_iterator(wants.path(), inner)) {
        std::string name = unit.path().filename().string();
        if (std::ranges::find(kKeptUnits, name) == kKeptUnits.end()) {
          RETURN_IF_ERROR(Symlink("/dev/null", units, name));
        }
      }
    }
  }
  for (const char* generator_dir :
       {"/usr/lib/systemd/system-generators", "/etc/systemd/system-generators"}) {
    for (const auto& generator : std::filesystem::directory_iterator(generator_dir, ec)) {
      RETURN_IF_ERROR(Symlink("/dev/null", generators, generator.path().filename().string()));
    }
  }
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(seed, "etc/machine-id"), "", 0444));
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(seed, "var/lib/dbus")));
  return Symlink("/etc/machine-id", os::JoinPath(seed, "var/lib/dbus"), "machine-id");
}

// The tail of a log file, for error messages.
std::string Tail(const std::string& path, size_t max) {
  auto text = os::ReadFile(path);
  if (!text) {
    return "";
  }
  return text->size() > max ? "..." + text->substr(text->size() - max) : *text;
}

// What PID 1 does between clone and exec: only system calls, no allocation (a fork of a process
// that may have threads). A failure is written to the boot log and ends the process.
struct ChildPlan {
  std::vector<int> procs_fds;  // cgroup.procs of each new group
  int log_fd = -1;
  int null_fd = -1;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

[[noreturn]] void ChildFail(const char* what) {
  const char* name = ::strerrorname_np(errno);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, name != nullptr ? name : "?", name != nullptr ? std::strlen(name) : 1);
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

[[noreturn]] void ChildMain(const ChildPlan& plan) {
  // The instance must not outlive a test process that dies without stopping it (SIGKILL is
  // the one signal an ancestor namespace can send its PID 1 without a handler).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    ::_exit(127);
  }
  if (::dup2(plan.null_fd, 0) < 0 || ::dup2(plan.log_fd, 1) < 0 || ::dup2(plan.log_fd, 2) < 0) {
    ::_exit(127);
  }
  for (int fd : plan.procs_fds) {
    if (::write(fd, "0", 1) != 1) {
      ChildFail("systemd-instance: joining its cgroup");
    }
  }
  // After joining the groups: they become the root of the new cgroup namespace.
  if (::unshare(CLONE_NEWCGROUP) != 0) {
    ChildFail("systemd-instance: unshare(CLONE_NEWCGROUP)");
  }
  // Its own session: a terminal's ^C (SIGINT, systemd's ctrl-alt-del) never reaches it.
  if (::setsid() < 0) {
    ChildFail("systemd-instance: setsid");
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe): one thread here
  if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
    ChildFail("systemd-instance: close_range");
  }
  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  ChildFail("systemd-instance: exec /bin/sh");
}

int next_instance = 0;

}  // namespace

SystemdInstance::~SystemdInstance() {
  (void)Stop();
}

std::string SystemdInstance::root() const {
  return fmt::format("/proc/{}/root", pid1_);
}

std::string SystemdInstance::BusAddress() const {
  return fmt::format("unix:path={}/run/dbus/system_bus_socket", root());
}

std::string SystemdInstance::UnitDir() const {
  return root() + "/run/systemd/system";
}

std::string SystemdInstance::BootLog() const {
  if (!state_) {
    return "";
  }
  constexpr size_t kMax = 4096;
  return fmt::format("--- boot script ---\n{}--- console ---\n{}",
                     Tail(os::JoinPath(state_->path(), "boot.log"), kMax),
                     Tail(os::JoinPath(state_->path(), "console.log"), kMax));
}

Status SystemdInstance::Boot(milliseconds timeout) {
  if (running()) {
    return Err(Error(EBUSY, "systemd instance: already running"));
  }
  Clock::time_point start = Clock::now();
  Status st = MakeCgroups();
  if (st) {
    st = Launch();
  }
  if (st) {
    st = WaitUntilUp(start + timeout);
  }
  if (!st) {
    std::string log = BootLog();
    if (running()) {
      // systemd runs but did not answer: what it logged says why (dbus failing to start...).
      auto journal =
          RunInside({"journalctl", "--no-pager", "-q", "-n", "40"}, std::chrono::seconds(5));
      if (journal) {
        log += "--- journal ---\n" + journal->stdout_data;
      }
    }
    (void)Stop();
    return Err(Error(st.error().code(),
                     fmt::format("booting systemd: {}\n{}", st.error().ToString(), log)));
  }
  boot_time_ = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return Ok();
}

Status SystemdInstance::MakeCgroups() {
  ASSIGN_OR_RETURN(std::vector<Hierarchy> hierarchies, CallerHierarchies());
  std::string name = fmt::format("{}{}-{}", kGroupPrefix, ::getpid(), next_instance++);
  for (const Hierarchy& h : hierarchies) {
    RemoveStaleGroups(h.dir);
    std::string dir = os::JoinPath(h.dir, name);
    if (::mkdir(dir.c_str(), 0755) != 0) {
      return Err(Error::FromErrno("mkdir", dir));
    }
    cgroups_.push_back(dir);
    // A v1 cpuset group takes no process until it has cpus and mems.
    std::vector<std::string> controllers = Split(h.controllers, ',');
    if (std::ranges::find(controllers, "cpuset") != controllers.end()) {
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        ASSIGN_OR_RETURN(std::string value, os::ReadFile(os::JoinPath(h.dir, file)));
        RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, file), value));
      }
    }
  }
  return Ok();
}

Status SystemdInstance::Launch() {
  ASSIGN_OR_RETURN(os::TempDir state, os::TempDir::Create(kGroupPrefix));
  state_.emplace(std::move(state));
  const std::string& dir = state_->path();
  RETURN_IF_ERROR(os::MkdirAll(os::JoinPath(dir, "t"), 0755));
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "console.log"), "", 0644));
  RETURN_IF_ERROR(SeedRoot(os::JoinPath(dir, "seed")));
  std::string shared;
  for (const std::string& path : shared_) {
    if (path.empty() || path[0] != '/' || path.find('\n') != std::string::npos ||
        !os::IsDirectory(path)) {
      return Err(
          Error::Invalid(fmt::format("ShareDirectory: {:?} is not an absolute path of a "
                                     "directory",
                                     path)));
    }
    shared += path + "\n";
  }
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "shared"), shared, 0644));
  if (::access(kBootScript, R_OK) != 0) {
    return Err(Error::FromErrno("access", kBootScript));
  }

  std::vector<os::UniqueFd> procs;
  for (const std::string& group : cgroups_) {
    ASSIGN_OR_RETURN(os::UniqueFd fd,
                     os::Open(os::JoinPath(group, "cgroup.procs"), O_WRONLY | O_CLOEXEC));
    procs.push_back(std::move(fd));
  }
  ASSIGN_OR_RETURN(os::UniqueFd log, os::Open(os::JoinPath(dir, "boot.log"),
                                              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  ASSIGN_OR_RETURN(os::UniqueFd null, os::Open("/dev/null", O_RDONLY | O_CLOEXEC));

  std::string instance_name =
      std::filesystem::path(cgroups_.empty() ? dir : cgroups_.front()).filename().string();
  std::vector<std::string> args = {"/bin/sh", kBootScript, dir, instance_name, kBootUnit};
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  ChildPlan plan;
  for (const os::UniqueFd& fd : procs) {
    plan.procs_fds.push_back(fd.get());
  }
  plan.log_fd = log.get();
  plan.null_fd = null.get();
  for (std::string& a : args) {
    plan.argv.push_back(a.data());
  }
  plan.argv.push_back(nullptr);
  for (std::string& e : env) {
    plan.envp.push_back(e.data());
  }
  plan.envp.push_back(nullptr);

  // A plain clone (fork semantics) into new namespaces: the child is PID 1 of the new pid
  // namespace and our child, so Stop() can wait for it.
  long pid =
      ::syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD,
                nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    return Err(Error::FromErrno("clone", "systemd's PID 1"));
  }
  if (pid == 0) {
    ChildMain(plan);
  }
  pid1_ = static_cast<pid_t>(pid);
  struct stat ns {};
  if (::stat(fmt::format("/proc/{}/ns/pid", pid1_).c_str(), &ns) == 0) {
    pid_namespace_ = ns.st_ino;
  }
  return Ok();
}

std::optional<std::string> SystemdInstance::ReapIfExited() {
  int status = 0;
  pid_t r = ::waitpid(pid1_, &status, WNOHANG);
  if (r == 0) {
    return std::nullopt;
  }
  pid1_ = -1;
  if (r < 0) {
    return Error::FromErrno("waitpid").ToString();
  }
  if (WIFEXITED(status)) {
    return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  return fmt::format("killed by signal {}", WTERMSIG(status));
}

Status SystemdInstance::WaitUntilUp(Clock::time_point deadline) {
  std::string socket = root() + "/run/dbus/system_bus_socket";
  std::string address = BusAddress();
  std::string last = "the system bus socket does not exist";
  for (;;) {
    if (std::optional<std::string> ended = ReapIfExited()) {
      return Err(Error(ECHILD, fmt::format("PID 1 {} (before systemd answered)", *ended)));
    }
    if (os::Exists(socket)) {
      Result<std::string> state = QuerySystemState(address);
      if (state && (*state == "running" || *state == "degraded")) {
        return Ok();
      }
      last = state ? "SystemState is " + *state : state.error().ToString();
    }
    if (Clock::now() > deadline) {
      return Err(Error(ETIMEDOUT, fmt::format("systemd did not answer in time ({})", last)));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status SystemdInstance::Stop(milliseconds timeout) {
  if (pid1_ > 0) {
    // SIGRTMIN+4 asks systemd to power off; SIGTERM would only make it re-execute itself.
    ::kill(pid1_, SIGRTMIN + 4);
    Clock::time_point deadline = Clock::now() + timeout;
    while (!ReapIfExited()) {
      if (Clock::now() > deadline) {
        // SIGKILL from an ancestor namespace ends PID 1, and with it every process inside.
        ::kill(pid1_, SIGKILL);
        while (::waitpid(pid1_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid1_ = -1;
        break;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  Status st = RemoveCgroups();
  state_.reset();
  return st;
}

Status SystemdInstance::RemoveCgroups() {
  Status first = Ok();
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  for (const std::string& group : cgroups_) {
    Status st = RemoveGroupTree(group, deadline);
    if (!st && first) {
      first = std::move(st);
    }
  }
  cgroups_.clear();
  return first;
}

Result<os::SubprocessResult> SystemdInstance::RunInside(const std::vector<std::string>& argv,
                                                        milliseconds timeout) const {
  if (!running()) {
    return Err(Error(ESRCH, "systemd instance: not running"));
  }
  os::SubprocessOptions options;
  options.program = "/usr/bin/nsenter";
  options.argv = {"nsenter", "-t", std::to_string(pid1_), "-a", "--"};
  options.argv.insert(options.argv.end(), argv.begin(), argv.end());
  options.env = std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
                                         "SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0"};
  options.timeout = timeout;
  return os::RunSubprocess(options);
}

}  // namespace comet::testing
