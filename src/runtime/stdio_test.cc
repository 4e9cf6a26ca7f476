// Privileged tests of what the pod supervisor needs from the runtime library: Create and
// ExecDetached with the caller's pipes as the process's stdio, the exec'd pid reaped by the
// caller, the caller's own fds 0-2 untouched, and a rootless caller (uid 0 in its own user
// namespace) running a container in that user namespace while joining its net/ipc/uts
// namespaces by path. Busybox rootfs in a temp dir; every body runs in a forked child.
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/scope_exit.h"
#include "oci/default_spec.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "runtime/runtime.h"
#include "testing/busybox_rootfs.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::runtime {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

#define CHILD_EQ(actual, expected)                                                           \
  do {                                                                                       \
    const auto& child_actual = (actual);                                                     \
    const auto& child_expected = (expected);                                                 \
    if (!(child_actual == child_expected)) {                                                 \
      (void)std::fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
                         #actual, Show(child_actual).c_str(), Show(child_expected).c_str()); \
      return 1;                                                                              \
    }                                                                                        \
  } while (false)

std::string Show(const std::string& s) {
  return s;
}
std::string Show(int value) {
  return std::to_string(value);
}

// A pipe whose ends close with it; both ends close-on-exec, as a supervisor makes them.
struct Pipe {
  Pipe() {
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
      fds = {-1, -1};
    }
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  Pipe(Pipe&&) = delete;
  Pipe& operator=(Pipe&&) = delete;
  [[nodiscard]] int read_end() const { return fds[0]; }
  [[nodiscard]] int write_end() const { return fds[1]; }
  void CloseRead() { Close(0); }
  void CloseWrite() { Close(1); }
  // Everything until end of file (the write end must be closed here first).
  std::string ReadAll() {
    auto text = os::ReadFd(fds[0], 1 << 20);
    return text ? *text : "<read error>";
  }

  std::array<int, 2> fds{};

 private:
  void Close(int i) {
    if (fds[i] >= 0) {
      ::close(fds[i]);
      fds[i] = -1;
    }
  }
};

// Identity of one of this process's fds: what it refers to and its close-on-exec flag.
std::string FdIdentity(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return "closed";
  }
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(::fcntl(fd, F_GETFD));
}

std::string StdioIdentity() {
  return FdIdentity(0) + " " + FdIdentity(1) + " " + FdIdentity(2);
}

// Waits for `pid` (a child of this process); its exit code, 128+n when killed, -1 on error.
int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class StdioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (namespaces, mounts)";
    }
    if (!testing::HaveBusybox()) {
      GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
    }
    auto dir = os::TempDir::Create("comet-runtime-stdio-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    ASSERT_EQ(::chmod(dir_->path().c_str(), 0755), 0);
    bundle_ = dir_->path() + "/bundle";
    state_ = dir_->path() + "/state";
    ASSERT_TRUE(os::MkdirAll(bundle_));
    ASSERT_TRUE(os::MkdirAll(state_));
    ASSERT_TRUE(testing::MakeBusyboxRootfs(
        bundle_ + "/rootfs", {"sh", "echo", "cat", "sleep", "hostname", "readlink", "id"}));
    global_.root = state_;
  }

  // config.json running `args` over a pipe-friendly (no terminal) default spec.
  [[nodiscard]] Status WriteConfig(const std::vector<std::string>& args, bool rootless,
                                   const std::vector<oci::Namespace>& namespaces = {}) const {
    oci::Spec spec = oci::DefaultSpec(rootless);
    spec.process->terminal = false;
    spec.process->args = args;
    spec.process->env = {"PATH=/bin"};
    if (!namespaces.empty()) {
      spec.linux_config->namespaces = namespaces;
      spec.linux_config->uid_mappings.clear();
      spec.linux_config->gid_mappings.clear();
    }
    return os::WriteFile(bundle_ + "/config.json", oci::SpecToJson(spec));
  }

  [[nodiscard]] CreateOptions Options(const std::string& id) const {
    CreateOptions options;
    options.id = id;
    options.bundle = bundle_;
    return options;
  }

  std::unique_ptr<os::TempDir> dir_;
  std::string bundle_;
  std::string state_;
  GlobalOptions global_;
};

// (a) and (c): init's stdin, stdout and stderr are the given pipes; the caller's fds 0-2 are
// as they were.
TEST_F(StdioTest, CreateWithPipes) {
  ASSERT_TRUE(WriteConfig({"sh", "-c", "echo hi; echo err >&2; read x; echo $x"}, false));
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    std::string before = StdioIdentity();
    Pipe in;
    Pipe out;
    Pipe err;
    CreateOptions options = Options("pipes");
    options.stdio = {in.read_end(), out.write_end(), err.write_end()};
    CHILD_OK(Create(global_, options));
    ScopeExit cleanup([&] { (void)Delete(global_, "pipes", true); });
    in.CloseRead();
    out.CloseWrite();
    err.CloseWrite();
    CHILD_EQ(StdioIdentity(), before);
    auto state = GetState(global_, "pipes");
    CHILD_OK(state);
    CHILD_CHECK(state->pid > 0);
    CHILD_OK(Start(global_, "pipes"));
    CHILD_CHECK(::write(in.write_end(), "hello\n", 6) == 6);
    in.CloseWrite();
    CHILD_EQ(out.ReadAll(), std::string("hi\nhello\n"));
    CHILD_EQ(err.ReadAll(), std::string("err\n"));
    CHILD_EQ(Reap(state->pid), 0);  // init is this process's child
    CHILD_OK(Delete(global_, "pipes", false));
    cleanup.Dismiss();
    CHILD_EQ(StdioIdentity(), before);
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Sources that are themselves fds 0-2 and swapped (stdout given as fd 0, stdin as fd 1), and one
// pipe for both stdout and stderr.
TEST_F(StdioTest, CreateWithFdsAlreadyInStdioRange) {
  ASSERT_TRUE(WriteConfig({"sh", "-c", "read x; echo out:$x; echo err:$x >&2"}, false));
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    Pipe in;
    Pipe out;
    // This caller's fd 0 becomes the output pipe and fd 1 the input pipe (close-on-exec both).
    CHILD_CHECK(::dup3(out.write_end(), 0, O_CLOEXEC) == 0);
    int saved_stdout = ::fcntl(1, F_DUPFD_CLOEXEC, 10);
    CHILD_CHECK(saved_stdout >= 0);
    CHILD_CHECK(::dup3(in.read_end(), 1, O_CLOEXEC) == 1);
    std::string before = StdioIdentity();
    CreateOptions options = Options("swapped");
    options.stdio = {1, 0, 0};
    auto created = Create(global_, options);
    ScopeExit cleanup([&] { (void)Delete(global_, "swapped", true); });
    std::string after = StdioIdentity();
    // Give this process its stdout back (for the check reports) and drop the pipe copies.
    ::dup2(saved_stdout, 1);
    ::close(saved_stdout);
    ::close(0);
    CHILD_OK(created);
    CHILD_EQ(after, before);
    in.CloseRead();
    out.CloseWrite();
    auto state = GetState(global_, "swapped");
    CHILD_OK(state);
    CHILD_OK(Start(global_, "swapped"));
    CHILD_CHECK(::write(in.write_end(), "x\n", 2) == 2);
    in.CloseWrite();
    CHILD_EQ(out.ReadAll(), std::string("out:x\nerr:x\n"));
    CHILD_EQ(Reap(state->pid), 0);
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// Between create and start, init holds none of its creator's fds (close-on-exec or not): a
// creator that dies in that window must not leave its pipes, sockets or locks held open.
TEST_F(StdioTest, CreatedInitHoldsNoCallerFd) {
  ASSERT_TRUE(WriteConfig({"sh", "-c", "exit 0"}, false));
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    Pipe marker;  // close-on-exec, as every fd of a supervisor
    int inherited = ::fcntl(marker.write_end(), F_DUPFD, 20);  // and one without close-on-exec
    CHILD_CHECK(inherited >= 0);
    CHILD_OK(Create(global_, Options("fds")));
    ScopeExit cleanup([&] { (void)Delete(global_, "fds", true); });
    ::close(inherited);
    auto state = GetState(global_, "fds");
    CHILD_OK(state);
    std::string fd_dir = "/proc/" + std::to_string(state->pid) + "/fd";
    // Init closes its sync socket just after it reported "created", so Create may return a
    // moment before: look again for up to 2 s before calling an fd held.
    std::string listed;
    for (int attempt = 0; attempt < 200; ++attempt) {
      listed.clear();
      for (const auto& entry : fs::directory_iterator(fd_dir)) {
        int fd = std::stoi(entry.path().filename().string());
        std::error_code error;
        std::string target = fs::read_symlink(entry.path(), error).string();
        // 0-2 and the exec fifo (an O_PATH fd) are all init keeps while it waits for start.
        if (fd > 2 && target.find("exec.fifo") == std::string::npos) {
          listed += std::to_string(fd) + " -> " + target + "; ";
        }
      }
      if (listed.empty()) {
        break;
      }
      ::usleep(10000);
    }
    CHILD_EQ(listed, std::string());
    // The write end's last holder is this process: closing it gives end of file at once.
    marker.CloseWrite();
    CHILD_EQ(marker.ReadAll(), std::string());
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST_F(StdioTest, CreateRejectsClosedFd) {
  ASSERT_TRUE(WriteConfig({"true"}, false));
  CreateOptions options = Options("closed-fd");
  options.stdio.out = 999;
  auto created = Create(global_, options);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().ToString().find("stdio.out"), std::string::npos)
      << created.error().ToString();
  EXPECT_FALSE(fs::exists(state_ + "/closed-fd"));
}

// (b) and (c): the exec'd process's pid is this process's child with the right exit code, and
// its stdio is the given pipes.
TEST_F(StdioTest, ExecDetachedReturnsReapablePid) {
  ASSERT_TRUE(WriteConfig({"sleep", "60"}, false));
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    Pipe init_io;
    CreateOptions create = Options("exec");
    create.stdio = {init_io.read_end(), init_io.write_end(), init_io.write_end()};
    CHILD_OK(Create(global_, create));
    ScopeExit cleanup([&] { (void)Delete(global_, "exec", true); });
    CHILD_OK(Start(global_, "exec"));
    auto state = GetState(global_, "exec");
    CHILD_OK(state);

    std::string before = StdioIdentity();
    Pipe in;
    Pipe out;
    Pipe err;
    ExecOptions exec;
    exec.id = "exec";
    exec.args = {"sh", "-c", "read x; echo out:$x; echo err:$x >&2; exit 7"};
    exec.stdio = {in.read_end(), out.write_end(), err.write_end()};
    auto pid = ExecDetached(global_, exec);
    CHILD_OK(pid);
    CHILD_CHECK(*pid > 0 && *pid != state->pid);
    in.CloseRead();
    out.CloseWrite();
    err.CloseWrite();
    CHILD_EQ(StdioIdentity(), before);
    CHILD_CHECK(::write(in.write_end(), "y\n", 2) == 2);
    in.CloseWrite();
    CHILD_EQ(out.ReadAll(), std::string("out:y\n"));
    CHILD_EQ(err.ReadAll(), std::string("err:y\n"));
    CHILD_EQ(Reap(*pid), 7);

    KillOptions kill;
    kill.id = "exec";
    kill.signal = SIGKILL;
    CHILD_OK(Kill(global_, kill));
    CHILD_EQ(Reap(state->pid), 128 + SIGKILL);
    CHILD_OK(Delete(global_, "exec", false));
    cleanup.Dismiss();
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// The caller's side of a rootless pod: an unprivileged uid that made a user namespace (mapping
// itself to 0), then net/ipc/uts namespaces of its own, as comet-supervisor does.
int BecomeRootlessSupervisor() {
  CHILD_CHECK(::setgroups(0, nullptr) == 0);
  CHILD_CHECK(::setresgid(kNobody, kNobody, kNobody) == 0);
  CHILD_CHECK(::setresuid(kNobody, kNobody, kNobody) == 0);
  CHILD_CHECK(::prctl(PR_SET_DUMPABLE, 1) == 0);  // setresuid cleared it; uid_map needs it
  CHILD_CHECK(::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0);
  CHILD_OK(os::WriteFile("/proc/self/setgroups", "deny"));
  CHILD_OK(os::WriteFile("/proc/self/uid_map", "0 65534 1\n"));
  CHILD_OK(os::WriteFile("/proc/self/gid_map", "0 65534 1\n"));
  CHILD_CHECK(::setresgid(0, 0, 0) == 0 && ::setresuid(0, 0, 0) == 0);
  CHILD_CHECK(::unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) == 0);
  CHILD_CHECK(::sethostname("podhost", 7) == 0);
  return 0;
}

std::string NsLink(pid_t pid, const char* name) {
  char buffer[128] = {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "?";
}

// A rootless caller with rootless=true: no cgroup is needed (the cgroupfs is not writable
// here), the container stays in the caller's user namespace (none in the spec) and joins the
// caller's net/ipc/uts namespaces by /proc/<pid>/ns path; ExecDetached works there too.
TEST_F(StdioTest, RootlessCallerJoinsItsNamespacesByPath) {
  ASSERT_EQ(::chown(bundle_.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chown(state_.c_str(), kNobody, kNobody), 0);
  auto outcome = testing::RunInChild([&]() -> int {
    ::alarm(60);
    if (BecomeRootlessSupervisor() != 0) {
      return 1;
    }
    std::string self = "/proc/" + std::to_string(::getpid()) + "/ns/";
    std::vector<oci::Namespace> namespaces = {{"pid", ""},           {"mount", ""},
                                              {"cgroup", ""},        {"network", self + "net"},
                                              {"ipc", self + "ipc"}, {"uts", self + "uts"}};
    std::string script =
        "echo $$; hostname; id -u; for n in net ipc uts user; do readlink /proc/self/ns/$n; "
        "done; read x; echo $x";
    CHILD_OK(WriteConfig({"sh", "-c", script}, true, namespaces));
    // The spec's hostname would need a uts namespace of the container's own.
    auto spec = oci::LoadSpec(bundle_);
    CHILD_OK(spec);
    spec->hostname.clear();
    CHILD_OK(os::WriteFile(bundle_ + "/config.json", oci::SpecToJson(*spec)));

    GlobalOptions global = global_;
    global.rootless = true;
    Pipe in;
    Pipe out;
    CreateOptions options = Options("rootless");
    options.stdio = {in.read_end(), out.write_end(), out.write_end()};
    CHILD_OK(Create(global, options));
    ScopeExit cleanup([&] { (void)Delete(global, "rootless", true); });
    in.CloseRead();
    out.CloseWrite();
    auto state = GetState(global, "rootless");
    CHILD_OK(state);
    CHILD_OK(Start(global, "rootless"));

    Pipe exec_out;
    ExecOptions exec;
    exec.id = "rootless";
    exec.args = {"sh", "-c", "hostname; exit 5"};
    exec.stdio.out = exec_out.write_end();
    auto pid = ExecDetached(global, exec);
    CHILD_OK(pid);
    exec_out.CloseWrite();
    CHILD_EQ(exec_out.ReadAll(), std::string("podhost\n"));
    CHILD_EQ(Reap(*pid), 5);

    CHILD_CHECK(::write(in.write_end(), "done\n", 5) == 5);
    in.CloseWrite();
    pid_t me = ::getpid();
    std::string expected = "1\npodhost\n0\n" + NsLink(me, "net") + "\n" + NsLink(me, "ipc") + "\n" +
                           NsLink(me, "uts") + "\n" + NsLink(me, "user") + "\ndone\n";
    CHILD_EQ(out.ReadAll(), expected);
    CHILD_EQ(Reap(state->pid), 0);
    CHILD_OK(Delete(global, "rootless", false));
    cleanup.Dismiss();
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::runtime
