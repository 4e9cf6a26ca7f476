// Credentials and the final exec. The order matters and follows capabilities(7): rlimits and
// oom_score_adj need privilege, so they come first; capabilities survive setresuid only with
// PR_SET_KEEPCAPS; seccomp goes last when no_new_privs allows it, else while CAP_SYS_ADMIN is
// still held.
#include "runtime/linux/process_apply.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "seccomp/filter.h"

namespace comet::runtime {
namespace {

constexpr long kKeyctlJoinSessionKeyring = 1;  // KEYCTL_JOIN_SESSION_KEYRING, <linux/keyctl.h>

bool Fail(ChildReport* report, const char* stage, const char* detail) noexcept {
  report->Set(errno, stage, detail);
  return false;
}

bool ApplyLimits(const ProcessPlan& process, ChildReport* report) noexcept {
  if (!process.session_keyring.empty()) {
    // A fresh session keyring keeps the host's keys out of the container. Kernels without
    // keyrings, or that refuse it in a user namespace, leave the inherited one, as runc does.
    if (::syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, process.session_keyring.c_str()) < 0 &&
        errno != ENOSYS && errno != EPERM && errno != EACCES && errno != EDQUOT) {
      return Fail(report, "join session keyring", process.session_keyring.c_str());
    }
  }
  for (const RlimitPlan& limit : process.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource_t>(limit.resource), &limit.value) != 0) {
      return Fail(report, "setrlimit", limit.name.c_str());
    }
  }
  if (!process.oom_score_adj.empty()) {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, process.oom_score_adj.data(), process.oom_score_adj.size()) < 0) {
      return Fail(report, "write /proc/self/oom_score_adj", process.oom_score_adj.c_str());
    }
    ::close(fd);
  }
  if (process.personality && ::personality(*process.personality) < 0) {
    return Fail(report, "personality", "");
  }
  return true;
}

bool ApplyTerminal(int tty_peer, ChildReport* report) noexcept {
  if (tty_peer < 0) {
    return true;
  }
  if (::ioctl(tty_peer, TIOCSCTTY, 0) != 0) {
    return Fail(report, "ioctl TIOCSCTTY", "");
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(tty_peer, fd) < 0) {
      return Fail(report, "dup2", "terminal");
    }
  }
  if (tty_peer > 2) {
    ::close(tty_peer);
  }
  return true;
}

// Moves the caller's stdio fds onto 0-2. Every source is first duplicated above 2, so that a
// source that is itself one of 0-2 (or serves two slots, or two sources that swap) is not
// overwritten before it is used; dup2 from a distinct fd also clears close-on-exec on 0-2.
bool ApplyStdio(const ProcessPlan& process, ChildReport* report) noexcept {
  int moved[3] = {-1, -1, -1};
  bool ok = true;
  for (int slot = 0; slot < 3 && ok; ++slot) {
    if (process.stdio[slot] >= 0) {
      moved[slot] = ::fcntl(process.stdio[slot], F_DUPFD_CLOEXEC, 3);
      ok = moved[slot] >= 0 || Fail(report, "dup", "stdio");
    }
  }
  for (int slot = 0; slot < 3 && ok; ++slot) {
    if (moved[slot] >= 0 && ::dup2(moved[slot], slot) < 0) {
      ok = Fail(report, "dup2", "stdio");
    }
  }
  for (int fd : moved) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  return ok;
}

bool InstallSeccomp(const ProcessPlan& process, ChildReport* report) noexcept {
  int result = seccomp::Install(*process.seccomp);
  if (result < 0) {
    errno = -result;
    return Fail(report, "seccomp", "install filter");
  }
  return true;
}

bool SetCapabilities(const CapabilityPlan& caps, ChildReport* report) noexcept {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    int shift = 32 * i;
    data[i].effective = static_cast<__u32>(caps.effective >> shift);
    data[i].permitted = static_cast<__u32>(caps.permitted >> shift);
    data[i].inheritable = static_cast<__u32>(caps.inheritable >> shift);
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    return Fail(report, "capset", "");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Fail(report, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
    if ((caps.ambient >> cap & 1U) != 0 &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return Fail(report, "prctl", "PR_CAP_AMBIENT_RAISE");
    }
  }
  return true;
}

bool ApplyCredentials(const ProcessPlan& process, ChildReport* report) noexcept {
  const CapabilityPlan& caps = process.capabilities;
  if (caps.apply) {
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
      return Fail(report, "prctl", "PR_SET_KEEPCAPS");
    }
    for (int cap = 0; cap <= caps.last_cap && cap < 64; ++cap) {
      if ((caps.bounding >> cap & 1U) == 0 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
          errno != EINVAL) {
        return Fail(report, "prctl", "PR_CAPBSET_DROP");
      }
    }
  }
  if (process.set_groups &&
      ::setgroups(process.additional_gids.size(), process.additional_gids.data()) != 0) {
    return Fail(report, "setgroups", "process.user.additionalGids");
  }
  if (::setresgid(process.gid, process.gid, process.gid) != 0) {
    return Fail(report, "setresgid", "process.user.gid");
  }
  if (::setresuid(process.uid, process.uid, process.uid) != 0) {
    return Fail(report, "setresuid", "process.user.uid");
  }
  if (caps.apply) {
    if (!SetCapabilities(caps, report)) {
      return false;
    }
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
      return Fail(report, "prctl", "PR_SET_KEEPCAPS");
    }
  }
  return true;
}

}  // namespace

bool PrepareFds(const ProcessPlan& process, ChildReport* report) noexcept {
  if (!ApplyStdio(process, report)) {
    return false;
  }
  unsigned int first_closed = 3U + static_cast<unsigned int>(process.preserve_fds);
  if (::syscall(SYS_close_range, first_closed, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
    return Fail(report, "close_range", "");
  }
  for (int fd = 3; fd < static_cast<int>(first_closed); ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) {
      ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
  }
  return true;
}

bool CloseFdsExcept(const ProcessPlan& process, const int* keep, int count,
                    ChildReport* report) noexcept {
  constexpr int kMaxKeep = 8;
  if (count > kMaxKeep) {
    errno = EINVAL;
    return Fail(report, "close fds", "too many fds to keep");
  }
  // Insertion sort into a fixed array: no allocation after fork.
  unsigned int sorted[kMaxKeep] = {};
  int kept = 0;
  for (int i = 0; i < count; ++i) {
    if (keep[i] < 0) {
      continue;
    }
    auto fd = static_cast<unsigned int>(keep[i]);
    int at = kept++;
    for (; at > 0 && sorted[at - 1] > fd; --at) {
      sorted[at] = sorted[at - 1];
    }
    sorted[at] = fd;
  }
  unsigned int next = 3U + static_cast<unsigned int>(process.preserve_fds);
  for (int i = 0; i < kept; ++i) {
    if (sorted[i] > next && ::syscall(SYS_close_range, next, sorted[i] - 1, 0U) != 0) {
      return Fail(report, "close_range", "");
    }
    if (sorted[i] >= next) {
      next = sorted[i] + 1;
    }
  }
  if (::syscall(SYS_close_range, next, ~0U, 0U) != 0) {
    return Fail(report, "close_range", "");
  }
  return true;
}

bool PrepareProcess(const ProcessPlan& process, int tty_peer, bool seccomp_installed,
                    ChildReport* report) noexcept {
  if (!ApplyLimits(process, report) || !ApplyTerminal(tty_peer, report)) {
    return false;
  }
  if (process.seccomp && !seccomp_installed && !process.no_new_privileges &&
      !InstallSeccomp(process, report)) {
    return false;
  }
  if (!ApplyCredentials(process, report)) {
    return false;
  }
  if (::chdir(process.cwd.c_str()) != 0) {
    return Fail(report, "chdir", process.cwd.c_str());
  }
  ::umask(process.umask.value_or(022));
  return true;
}

void FinishExec(const ProcessPlan& process, const char* executable, bool seccomp_installed,
                ChildReport* report) noexcept {
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(report, "prctl", "PR_SET_NO_NEW_PRIVS");
    return;
  }
  if (process.seccomp && !seccomp_installed && process.no_new_privileges &&
      !InstallSeccomp(process, report)) {
    return;
  }
  ::execve(executable, process.argv.get(), process.envp.get());
  Fail(report, "exec", executable);
}

}  // namespace comet::runtime
