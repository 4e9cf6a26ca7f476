// Mounting overlayfs over many lower layers (overlayfs(5) allows 500), past mount(2)'s
// one-page limit on options. Thread-safe: the working directory changes in a forked child.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/scope_exit.h"
#include "image/snapshot_internal.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::image::internal {
namespace {

// Messages the kernel queued on a filesystem context ("e overlay: failed to resolve ..."):
// the only place that says which option was wrong.
std::string ContextLog(int fs_fd) {
  std::string log;
  char buffer[512];
  for (int i = 0; i < 32; ++i) {
    ssize_t n = ::read(fs_fd, buffer, sizeof(buffer));
    if (n <= 0) {
      break;
    }
    if (!log.empty()) {
      log += "; ";
    }
    log.append(buffer, static_cast<size_t>(n));
  }
  return log;
}

Error ConfigError(int fs_fd, std::string_view op, std::string_view subject) {
  int code = errno;
  std::string log = ContextLog(fs_fd);
  std::string message = fmt::format("{} {}", op, subject);
  if (!log.empty()) {
    message += fmt::format(" [{}]", log);
  }
  return {code, std::move(message), true};
}

Status SetFd(int fs_fd, const char* key, const std::string& path) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(path, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (::fsconfig(fs_fd, FSCONFIG_SET_FD, key, nullptr, fd.get()) != 0) {
    return Err(ConfigError(fs_fd, fmt::format("fsconfig {}", key), path));
  }
  return Ok();
}

// Sends {stage, errno} to the parent and exits; async-signal-safe.
[[noreturn]] void ChildFail(int pipe_fd, int stage) {
  int report[2] = {stage, errno};
  ssize_t ignored = ::write(pipe_fd, report, sizeof(report));
  (void)ignored;
  ::_exit(1);
}

// Runs chdir(dir) + mount(...) in a forked child: the working directory is per process, and
// other threads of ours must not see it change. The child only makes system calls on strings
// prepared before fork, so it is safe in a multi-threaded process.
Status MountFromDirectory(const std::string& dir, const std::string& target, unsigned long flags,
                          const std::string& data) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  os::UniqueFd read_end(fds[0]);
  os::UniqueFd write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err(Error::FromErrno("fork", "overlay mount"));
  }
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) {
      ChildFail(write_end.get(), 0);
    }
    if (::mount("overlay", target.c_str(), "overlay", flags, data.c_str()) != 0) {
      ChildFail(write_end.get(), 1);
    }
    ::_exit(0);
  }
  write_end.Reset();
  int report[2] = {0, 0};
  ssize_t n = 0;
  do {
    n = ::read(read_end.get(), report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof(report))) {
    return Err(Error::FromCode(report[1], report[0] == 0 ? "chdir" : "mount overlay",
                               report[0] == 0 ? dir : os::JoinPath(dir, target)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(Error(EIO, fmt::format("overlay mount child failed (status {})", status)));
  }
  return Ok();
}

std::pair<std::string, std::string> SplitParent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

Result<bool> MountOverlayByFds(const OverlaySpec& spec) {
  os::UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno == ENOSYS) {
      return false;
    }
    return Err(Error::FromErrno("fsopen", "overlay"));
  }
  for (size_t i = 0; i < spec.lowers.size(); ++i) {
    ASSIGN_OR_RETURN(os::UniqueFd layer,
                     os::Open(spec.lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (::fsconfig(fs.get(), FSCONFIG_SET_FD, "lowerdir+", nullptr, layer.get()) != 0) {
      // Before 6.13 overlay takes only strings (EINVAL); before 6.8 there is no lowerdir+.
      if (i == 0 && errno == EINVAL) {
        return false;
      }
      return Err(ConfigError(fs.get(), "fsconfig lowerdir+", spec.lowers[i]));
    }
  }
  if (!spec.upper.empty()) {
    RETURN_IF_ERROR(SetFd(fs.get(), "upperdir", spec.upper));
    RETURN_IF_ERROR(SetFd(fs.get(), "workdir", spec.work));
  }
  if (spec.userxattr && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) != 0) {
    return Err(ConfigError(fs.get(), "fsconfig userxattr", spec.target));
  }
  // Best effort: without it the mount only syncs as any other.
  if (spec.volatile_upper && !spec.upper.empty()) {
    (void)::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0);
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return Err(ConfigError(fs.get(), "create overlay", spec.target));
  }
  os::UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, spec.read_only ? MOUNT_ATTR_RDONLY : 0));
  if (!mnt) {
    return Err(Error::FromErrno("fsmount overlay", spec.target));
  }
  if (::move_mount(mnt.get(), "", AT_FDCWD, spec.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return Err(Error::FromErrno("move_mount overlay", spec.target));
  }
  return true;
}

Status MountOverlayByLinks(const OverlaySpec& spec, const std::string& link_dir) {
  auto [parent, links] = SplitParent(link_dir);
  auto [target_parent, target] = SplitParent(spec.target);
  if (parent != target_parent) {
    return Err(Error::Invalid(
        fmt::format("overlay links {} and target {} must be siblings", link_dir, spec.target)));
  }
  RETURN_IF_ERROR(os::RemoveAll(link_dir));
  RETURN_IF_ERROR(os::MkdirAll(link_dir, 0700));
  ScopeExit remove_links([&link_dir] { (void)os::RemoveAll(link_dir); });
  std::string lowerdir;
  for (size_t i = 0; i < spec.lowers.size(); ++i) {
    // Numbered bottom up so that a layer's link name does not depend on the stack above it.
    std::string name = std::to_string(spec.lowers.size() - 1 - i);
    std::string link = os::JoinPath(link_dir, name);
    if (::symlink(spec.lowers[i].c_str(), link.c_str()) != 0) {
      return Err(Error::FromErrno("symlink", link));
    }
    lowerdir.append(i == 0 ? "" : ":").append(links).append("/").append(name);
  }
  std::string data = "lowerdir=" + lowerdir;
  if (!spec.upper.empty()) {
    data += fmt::format(",upperdir={},workdir={}", SplitParent(spec.upper).second,
                        SplitParent(spec.work).second);
    if (SplitParent(spec.upper).first != parent || SplitParent(spec.work).first != parent) {
      return Err(Error::Invalid("overlay upper and work must be beside the target"));
    }
  }
  if (spec.userxattr) {
    data += ",userxattr";
  }
  // The kernel copies at most one page of options (mount(2)).
  if (data.size() >= 4096) {
    return Err(Error(
        E2BIG, fmt::format("overlay options for {} layers exceed a page", spec.lowers.size())));
  }
  const unsigned long flags = spec.read_only ? MS_RDONLY : 0;
  if (spec.volatile_upper && !spec.upper.empty() && data.size() + 9 < 4096) {
    // Linux 5.10; an older kernel refuses the option (EINVAL): mount without it then.
    auto mounted = MountFromDirectory(parent, target, flags, data + ",volatile");
    if (mounted || mounted.error().code() != EINVAL) {
      return mounted;
    }
  }
  return MountFromDirectory(parent, target, flags, data);
}

}  // namespace comet::image::internal
