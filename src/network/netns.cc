// Pinned network namespaces; see netns.h.
#include "network/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "os/file.h"
#include "os/file_lock.h"

namespace comet::network {

namespace {

// Stages the pinning child reports with its errno.
enum Stage : int { kUnshare = 1, kLoopback = 2, kBindMount = 3 };

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool IsMountRoot(const std::string& dir) {
  struct statx stx {};
  if (::statx(AT_FDCWD, dir.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) {
    return false;
  }
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

// Runs in the forked child: only system calls on data prepared before fork.
[[noreturn]] void PinChild(const char* path, int report_fd) {
  int stage = kUnshare;
  if (::unshare(CLONE_NEWNET) == 0) {
    stage = kLoopback;
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq request{};
    std::memcpy(request.ifr_name, "lo", 3);
    if (sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &request) == 0) {
      request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
      if (::ioctl(sock, SIOCSIFFLAGS, &request) == 0) {
        stage = kBindMount;
        if (::mount("/proc/self/ns/net", path, nullptr, MS_BIND, nullptr) == 0) {
          ::_exit(0);
        }
      }
    }
  }
  int report[2] = {stage, errno};
  ssize_t written = ::write(report_fd, report, sizeof report);
  ::_exit(written == static_cast<ssize_t>(sizeof report) ? 1 : 2);
}

Status PinInChild(const std::string& path) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2", path));
  }
  os::UniqueFd read_end(fds[0]);
  os::UniqueFd write_end(fds[1]);
  const char* c_path = path.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err(Error::FromErrno("fork", path));
  }
  if (pid == 0) {
    PinChild(c_path, write_end.get());
  }
  write_end.Reset();
  int report[2] = {0, 0};
  ssize_t n = ::read(read_end.get(), report, sizeof report);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof report)) {
    const char* what = report[0] == kUnshare    ? "unshare(CLONE_NEWNET)"
                       : report[0] == kLoopback ? "bringing up lo in"
                                                : "bind-mounting the netns on";
    return Err(Error::FromCode(report[1], what, path));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(Error(ECHILD, fmt::format("pinning netns {}: child failed", path)));
  }
  return Ok();
}

}  // namespace

Status MakeSharedPinDir(const std::string& dir) {
  RETURN_IF_ERROR(os::MkdirAll(dir, 0755));
  // Serialises concurrent callers so the directory is bind-mounted on itself only once.
  ASSIGN_OR_RETURN(os::FileLock lock,
                   os::FileLock::AcquireDirectory(dir, os::FileLock::Mode::kExclusive));
  if (!IsMountRoot(dir) &&
      ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return Err(Error::FromErrno("bind-mounting on itself", dir));
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) != 0) {
    return Err(Error::FromErrno("making a shared mount", dir));
  }
  return Ok();
}

Status CreatePinnedNetns(const std::string& path) {
  RETURN_IF_ERROR(MakeSharedPinDir(ParentDir(path)));
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) {
    return Err(Error::FromErrno("creating netns pin", path));
  }
  ::close(fd);
  if (Status pinned = PinInChild(path); !pinned) {
    ::unlink(path.c_str());
    return pinned;
  }
  return Ok();
}

Status RemovePinnedNetns(const std::string& path) {
  // A pin mounted more than once (a racing creator) is unmounted until none is left.
  for (int i = 0; i < 16 && IsNetnsPin(path); ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
        errno != ENOENT) {
      return Err(Error::FromErrno("unmounting netns pin", path));
    }
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("removing netns pin", path));
  }
  return Ok();
}

bool IsNetnsPin(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == NSFS_MAGIC;
}

Result<os::UniqueFd> OpenNetns(const std::string& path) {
  os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Err(Error::FromErrno("opening netns", path));
  }
  struct statfs st {};
  if (::fstatfs(fd.get(), &st) != 0 || st.f_type != NSFS_MAGIC) {
    return Err(Error::Invalid(fmt::format("{} is not a network namespace", path)));
  }
  return fd;
}

Status EnterNetns(int fd) {
  if (::setns(fd, CLONE_NEWNET) != 0) {
    return Err(Error::FromErrno("setns", "network namespace"));
  }
  return Ok();
}

}  // namespace comet::network
