// Intermediate and init processes: namespaces, then the rootfs, hooks, the exec fifo wait, and
// the switch to the user's process (credentials_apply.cc). See docs/architecture.md for the
// sequence and the messages exchanged with the runtime.
#include "runtime/linux/init.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "runtime/linux/child_ops.h"
#include "runtime/linux/process_apply.h"
#include "runtime/linux/rootfs.h"
#include "runtime/linux/sync.h"

namespace comet::runtime {
namespace {

// Set once `create` has returned: from then on nobody reads the sync socket.
bool g_runtime_gone = false;
// The exec fifo's write end once `start` opened it: `start` reads "0" when init goes ahead, then
// either end-of-file (the fd is close-on-exec: the program was exec'd) or "1" and an error.
int g_start_fd = -1;

// Reports a failure to whoever listens (create over the sync socket, start over the fifo, else
// stderr) and exits.
[[noreturn]] void Fail(const InitPlan& plan, const ChildReport& report) noexcept {
  if (g_start_fd >= 0) {
    (void)!::write(g_start_fd, "1", 1);
    WriteReport(g_start_fd, report, "");
  } else if (g_runtime_gone) {
    WriteReportToStderr(report);
  } else {
    SyncSendError(plan.sync_fd, report);
  }
  ::_exit(1);
}

[[noreturn]] void FailErrno(const InitPlan& plan, const char* stage, const char* detail) noexcept {
  static ChildReport report;
  report.Set(errno, stage, detail);
  Fail(plan, report);
}

// The intermediate is single-threaded: moving this thread moves the whole process.
void JoinCgroups(const InitPlan& plan) noexcept {
  for (const CgroupJoinPlan& join : plan.cgroup_joins) {
    if (::write(join.fd, "0", 1) != 1) {
      FailErrno(plan, "join cgroup", join.path.c_str());
    }
    ::close(join.fd);
  }
}

// unshare_flags: the plan's, less CLONE_NEWPID when this process was cloned into its new pid
// namespace already.
void JoinAndUnshare(const InitPlan& plan, int unshare_flags) noexcept {
  JoinCgroups(plan);
  for (const NamespaceJoin& join : plan.joins) {
    if (::setns(join.fd, join.nstype) != 0) {
      FailErrno(plan, "setns", NamespaceName(join.nstype));
    }
  }
  if (plan.new_user_ns) {
    if (::unshare(CLONE_NEWUSER) != 0) {
      FailErrno(plan, "unshare", "user namespace");
    }
  }
  // The parent writes the id maps (when a user ns is new) and joins us to the cgroups unless we
  // did; wait for it before creating the cgroup namespace, whose root is the cgroup we are in.
  if (plan.namespaces_sync) {
    if (SyncSend(plan.sync_fd, SyncType::kUsernsReady, 0, -1) != 0) {
      FailErrno(plan, "sync", "user namespace ready");
    }
    static SyncMessage message;
    if (SyncReceive(plan.sync_fd, &message, nullptr) != 0 || message.type != SyncType::kGo) {
      ::_exit(1);  // the parent gave up and reports on its own
    }
  }
  if (plan.new_user_ns) {
    // Become root of the new namespace when root is mapped; otherwise stay as mapped.
    if (::setresgid(0, 0, 0) != 0 && errno != EINVAL) {
      FailErrno(plan, "setresgid", "0");
    }
    if (::setresuid(0, 0, 0) != 0 && errno != EINVAL) {
      FailErrno(plan, "setresuid", "0");
    }
  }
  if (unshare_flags != 0 && ::unshare(unshare_flags) != 0) {
    FailErrno(plan, "unshare", "namespaces");
  }
  if (!plan.timens_offsets.empty()) {
    int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, plan.timens_offsets.data(), plan.timens_offsets.size()) < 0) {
      FailErrno(plan, "write", "/proc/self/timens_offsets");
    }
    ::close(fd);
  }
}

void SetUts(const InitPlan& plan) noexcept {
  if (plan.hostname && ::sethostname(plan.hostname->data(), plan.hostname->size()) != 0) {
    FailErrno(plan, "sethostname", plan.hostname->c_str());
  }
  if (plan.domainname && ::setdomainname(plan.domainname->data(), plan.domainname->size()) != 0) {
    FailErrno(plan, "setdomainname", plan.domainname->c_str());
  }
}

void WriteSysctls(const InitPlan& plan) noexcept {
  for (const SysctlPlan& sysctl : plan.sysctls) {
    int fd = ::open(sysctl.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      FailErrno(plan, "open sysctl", sysctl.path.c_str());
    }
    if (::write(fd, sysctl.value.data(), sysctl.value.size()) < 0) {
      FailErrno(plan, "write sysctl", sysctl.path.c_str());
    }
    ::close(fd);
  }
}

// Runs the container's own hooks (createContainer, startContainer) with the state on stdin.
void RunContainerHooks(const InitPlan& plan, const std::vector<HookPlan>& hooks, int state_fd,
                       const char* stage) noexcept {
  for (const HookPlan& hook : hooks) {
    int status = RunHookProcess(hook, state_fd);
    if (status != 0) {
      static ChildReport report;
      report.Set(status > 0 ? ECHILD : -status, stage, hook.path.c_str());
      Fail(plan, report);
    }
  }
}

void SetupTerminal(const InitPlan& plan, int* peer) noexcept {
  const ProcessPlan& process = plan.process;
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    FailErrno(plan, "open", "/dev/ptmx");
  }
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) {
    FailErrno(plan, "unlockpt", "/dev/ptmx");
  }
  *peer = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*peer < 0) {
    FailErrno(plan, "open", "pty peer");
  }
  if (process.console_rows != 0 || process.console_cols != 0) {
    struct winsize size {};
    size.ws_row = process.console_rows;
    size.ws_col = process.console_cols;
    ::ioctl(*peer, TIOCSWINSZ, &size);
  }
  if (SyncSend(plan.sync_fd, SyncType::kConsole, 0, master) != 0) {
    FailErrno(plan, "sync", "sending the console");
  }
  ::close(master);
}

// Notify profiles hand their listener to the runtime, which passes it to listenerPath; that has
// to happen while the runtime still listens, so the filter goes in before the exec fifo wait.
void InstallSeccompWithListener(const InitPlan& plan) noexcept {
  // Without no_new_privs the filter needs CAP_SYS_ADMIN, which init still has at this point.
  if (plan.process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    FailErrno(plan, "prctl", "no_new_privs");
  }
  int listener = seccomp::Install(*plan.process.seccomp);
  if (listener < 0) {
    errno = -listener;
    FailErrno(plan, "seccomp", "install");
  }
  if (SyncSend(plan.sync_fd, SyncType::kListener, 0, listener) != 0) {
    FailErrno(plan, "sync", "seccomp listener");
  }
  ::close(listener);
  static SyncMessage message;
  if (SyncReceive(plan.sync_fd, &message, nullptr) != 0 ||
      message.type != SyncType::kListenerDone) {
    ::_exit(1);
  }
}

// Blocks until `start` opens the fifo for reading, then tells it we are going ahead.
void WaitForStart(const InitPlan& plan) noexcept {
  char path[64];
  FormatFdPath(path, sizeof(path), plan.exec_fifo_fd);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    FailErrno(plan, "open", "exec fifo");
  }
  if (::write(fd, "0", 1) != 1) {
    FailErrno(plan, "write", "exec fifo");
  }
  g_start_fd = fd;  // closed by execve (O_CLOEXEC), which is how `start` learns of the exec
  ::close(plan.exec_fifo_fd);
}

// Lets the runtime run its hooks, then receives the state fds the createContainer and
// startContainer hooks read (-1 when there are none).
void ReceiveHookStates(const InitPlan& plan, int* state_fd, int* start_state_fd) noexcept {
  if (!plan.runtime_hooks_sync) {
    return;
  }
  if (SyncSend(plan.sync_fd, SyncType::kRuntimeHooks, 0, -1) != 0) {
    FailErrno(plan, "sync", "runtime hooks");
  }
  static SyncMessage message;
  if (SyncReceive(plan.sync_fd, &message, state_fd) != 0 ||
      message.type != SyncType::kRuntimeHooksDone) {
    ::_exit(1);
  }
  // The state the startContainer hooks see ("created") follows as its own message.
  if (message.value != 0 && (SyncReceive(plan.sync_fd, &message, start_state_fd) != 0 ||
                             message.type != SyncType::kStartState)) {
    ::_exit(1);
  }
}

[[noreturn]] void RunInit(const InitPlan& plan) noexcept {
  if (::setsid() < 0) {
    FailErrno(plan, "setsid", "");
  }
  static ChildReport report;
  if (plan.rootfs && ApplyMounts(*plan.rootfs, &report) != 0) {
    Fail(plan, report);
  }
  SetUts(plan);
  int state_fd = -1;
  int start_state_fd = -1;
  ReceiveHookStates(plan, &state_fd, &start_state_fd);
  RunContainerHooks(plan, plan.create_container_hooks, state_fd, "createContainer hook");
  if (plan.rootfs && ApplyPivot(*plan.rootfs, &report) != 0) {
    Fail(plan, report);
  }
  WriteSysctls(plan);
  if (plan.process.create_cwd && MakeDirs(plan.process.cwd.c_str()) != 0) {
    FailErrno(plan, "mkdir", plan.process.cwd.c_str());
  }
  if (plan.rootfs && ApplyFinalize(*plan.rootfs, &report) != 0) {
    Fail(plan, report);
  }
  int peer = -1;
  if (plan.process.terminal) {
    SetupTerminal(plan, &peer);
  }
  if (!PrepareFds(plan.process, &report)) {
    Fail(plan, report);
  }
  if (plan.exec_fifo_fd >= 0) {
    // Init may wait for `start` indefinitely: keep only what the steps up to exec still use.
    const int keep[] = {plan.sync_fd, plan.exec_fifo_fd, state_fd, start_state_fd, peer};
    if (!CloseFdsExcept(plan.process, keep, static_cast<int>(sizeof(keep) / sizeof(keep[0])),
                        &report)) {
      Fail(plan, report);
    }
  }
  bool seccomp_installed = false;
  if (plan.process.seccomp && plan.process.seccomp->needs_listener) {
    InstallSeccompWithListener(plan);
    seccomp_installed = true;
  }
  // Fail in `create`, not later in `start`, when the config cannot work (as runc does).
  if (!PrepareProcess(plan.process, peer, seccomp_installed, &report)) {
    Fail(plan, report);
  }
  const char* executable = ResolveExecutable(plan.process);
  if (executable == nullptr) {
    report.Set(ENOENT, "exec: executable file not found in $PATH or not executable:",
               plan.process.argv.get()[0]);
    Fail(plan, report);
  }
  if (SyncSend(plan.sync_fd, SyncType::kCreated, 0, -1) != 0) {
    FailErrno(plan, "sync", "created");
  }
  if (plan.exec_fifo_fd >= 0) {
    g_runtime_gone = true;
    // Nobody reads the sync socket any more (create has its kCreated); `start` may come late.
    ::close(plan.sync_fd);
    WaitForStart(plan);
  }
  RunContainerHooks(plan, plan.start_container_hooks, start_state_fd, "startContainer hook");
  if (state_fd >= 0) {
    ::close(state_fd);
  }
  if (start_state_fd >= 0) {
    ::close(start_state_fd);
  }
  FinishExec(plan.process, executable, seccomp_installed, &report);
  Fail(plan, report);
}

}  // namespace

bool CanCloneInitDirectly(const InitPlan& plan) noexcept {
  // The intermediate is needed when the id maps must be written between the user namespace's
  // creation and the rest, and when init must be a child of the process that joined or made a
  // namespace that only applies to children (pid, time).
  if (plan.new_user_ns || (plan.unshare_flags & CLONE_NEWTIME) != 0) {
    return false;
  }
  return std::none_of(plan.joins.begin(), plan.joins.end(), [](const NamespaceJoin& join) {
    return join.nstype == CLONE_NEWPID || join.nstype == CLONE_NEWTIME;
  });
}

int DirectInitCloneFlags(const InitPlan& plan) noexcept {
  return (plan.unshare_flags & CLONE_NEWPID) | SIGCHLD;
}

void RunDirectInit(const InitPlan& plan) noexcept {
  ResetSignals();
  JoinAndUnshare(plan, plan.unshare_flags & ~CLONE_NEWPID);
  RunInit(plan);
}

void RunIntermediate(const InitPlan& plan) noexcept {
  ResetSignals();
  JoinAndUnshare(plan, plan.unshare_flags);
  // Init must not speak on the sync socket before its pid is announced: the runtime keys every
  // later message on that pid, and on a loaded machine init could otherwise report "created"
  // before this process got to send it. Init waits for the gate's end of file.
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) != 0) {
    FailErrno(plan, "pipe2", "init gate");
  }
  pid_t init = ::fork();
  if (init < 0) {
    FailErrno(plan, "fork", "container init");
  }
  if (init == 0) {
    ::close(gate[1]);
    char byte = 0;
    while (::read(gate[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(gate[0]);
    RunInit(plan);
  }
  ::close(gate[0]);
  SyncSend(plan.sync_fd, SyncType::kInitPid, init, -1);
  ::close(gate[1]);
  ::_exit(0);
}

}  // namespace comet::runtime
