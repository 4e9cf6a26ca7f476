// File helpers.
#include "os/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/strings.h"

namespace comet::os {

Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  return UniqueFd(fd);
}

Result<std::string> ReadFd(int fd, size_t limit) {
  std::string data;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("read"));
    }
    if (n == 0) {
      return data;
    }
    if (data.size() + static_cast<size_t>(n) > limit) {
      return Err(Error(EFBIG, "input larger than " + std::to_string(limit) + " bytes"));
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> ReadFileLimited(const std::string& path, size_t limit) {
  ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_RDONLY));
  auto data = ReadFd(fd.get(), limit);
  if (!data) {
    return Err(std::move(data).error().AddContext(path));
  }
  return data;
}

Result<std::string> ReadFile(const std::string& path) {
  return ReadFileLimited(path, static_cast<size_t>(1) << 30);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("write"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  auto st = WriteAll(fd.get(), data);
  if (!st) {
    return Err(std::move(st).error().AddContext(path));
  }
  return Ok();
}

namespace {

Status WriteAndRename(const std::string& path, std::string_view data, mode_t mode, bool sync) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    ASSIGN_OR_RETURN(UniqueFd fd, Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    auto st = WriteAll(fd.get(), data);
    if (st && sync && ::fsync(fd.get()) != 0) {
      st = Err(Error::FromErrno("fsync", tmp));
    }
    if (!st) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  // Without fsync (ReplaceFile), an existing file is swapped out rather than renamed over: ext4
  // (auto_da_alloc) starts writing the new file's data out on a rename over a file, ~0.2 ms per
  // status update; the exchange is just as atomic for readers. Then tmp holds the old file.
  if (!sync && ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    if (::unlink(tmp.c_str()) == 0 || errno != EISDIR) {
      return Ok();
    }
    // `path` was a directory: put it back; the rename below fails on it as it always did.
    ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = Error::FromErrno("rename", tmp);
    ::unlink(tmp.c_str());
    return Err(std::move(err));
  }
  return Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  return WriteAndRename(path, data, mode, true);
}

Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode) {
  return WriteAndRename(path, data, mode, false);
}

Status MkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return Err(Error::Invalid("mkdir: empty path"));
  }
  if (IsDirectory(path)) {  // the common case: one stat instead of a mkdir per component
    return Ok();
  }
  // Only the missing tail is made: from the deepest directory that exists, found backwards (a
  // stat each), rather than a failing mkdir for each of the path's existing parents.
  size_t existing = path.size();
  while (existing > 0) {
    existing = path.rfind('/', existing - 1);
    if (existing == std::string::npos || existing == 0) {
      existing = 0;
      break;
    }
    if (IsDirectory(path.substr(0, existing))) {
      break;
    }
  }
  std::string partial = path.substr(0, existing);
  for (const std::string& part : Split(path.substr(existing), '/')) {
    if (part.empty()) {
      if (partial.empty()) {
        partial = "/";
      }
      continue;
    }
    if (!partial.empty() && partial.back() != '/') {
      partial += '/';
    }
    partial += part;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return Err(Error::FromErrno("mkdir", partial));
    }
  }
  if (!IsDirectory(path)) {
    return Err(Error(ENOTDIR, "mkdir " + path + ": not a directory"));
  }
  return Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", path));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const Error error = Error::FromErrno("opendir", path);
    ::close(fd);
    return Err(error);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const struct dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  const int code = errno;
  ::closedir(dir);
  if (code != 0) {
    return Err(Error::FromCode(code, "readdir", path));
  }
  return names;
}

namespace {

// RemoveAll keeps only the current directory open, whatever the depth: the way back up is
// "..", checked against the identity recorded on the way down. Directories we own but may not
// list or empty (rootless extraction leaves 0555 ones) are made u+rwx first.
struct RemoveFrame {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;  // in its parent
  std::string shown;
  std::vector<std::string> pending;
};

Result<UniqueFd> OpenDirToEmpty(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
      (st.st_mode & S_IRWXU) != S_IRWXU) {
    // Best effort: when it fails, the openat below says why the directory cannot be emptied.
    // ("(void)!": a plain (void) cast does not silence warn_unused_result under fortify.)
    (void)!::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, 0);
  }
  const int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", shown));
  }
  return UniqueFd(fd);
}

Result<RemoveFrame> DescribeDir(int fd, const std::string& name, const std::string& shown) {
  RemoveFrame frame{.dev = 0, .ino = 0, .name = name, .shown = shown, .pending = {}};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Err(Error::FromErrno("stat", shown));
  }
  frame.dev = st.st_dev;
  frame.ino = st.st_ino;
  const int own = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = own < 0 ? nullptr : ::fdopendir(own);
  if (dir == nullptr) {
    const auto err = Error::FromErrno("opendir", shown);
    if (own >= 0) {
      ::close(own);
    }
    return Err(err);
  }
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view child = entry->d_name;
    if (child != "." && child != "..") {
      frame.pending.emplace_back(child);
    }
  }
  ::closedir(dir);
  return frame;
}

// Removes the next pending child of the top frame, or descends into it when it is a
// non-empty directory.
Status RemoveStep(std::vector<RemoveFrame>& stack, UniqueFd& fd) {
  const std::string name = std::move(stack.back().pending.back());
  stack.back().pending.pop_back();
  const std::string shown = JoinPath(stack.back().shown, name);
  if (::unlinkat(fd.get(), name.c_str(), 0) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return Err(Error::FromErrno("unlink", shown));
  }
  ASSIGN_OR_RETURN(UniqueFd child, OpenDirToEmpty(fd.get(), name, shown));
  ASSIGN_OR_RETURN(RemoveFrame frame, DescribeDir(child.get(), name, shown));
  stack.push_back(std::move(frame));
  fd = std::move(child);
  return Ok();
}

Status Ascend(UniqueFd& fd, const RemoveFrame& parent) {
  const int raw = ::openat(fd.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return Err(Error::FromErrno("open", parent.shown));
  }
  UniqueFd up(raw);
  struct stat st {};
  if (::fstat(raw, &st) != 0) {
    return Err(Error::FromErrno("stat", parent.shown));
  }
  if (st.st_dev != parent.dev || st.st_ino != parent.ino) {
    return Err(Error(EBUSY, parent.shown + ": moved while being removed"));
  }
  fd = std::move(up);
  return Ok();
}

}  // namespace

Status RemoveAll(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return Err(Error::FromErrno("unlink", path));
  }
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirToEmpty(AT_FDCWD, path, path));
  std::vector<RemoveFrame> stack;
  ASSIGN_OR_RETURN(RemoveFrame top, DescribeDir(fd.get(), path, path));
  stack.push_back(std::move(top));
  while (stack.size() > 1 || !stack.back().pending.empty()) {
    if (!stack.back().pending.empty()) {
      RETURN_IF_ERROR(RemoveStep(stack, fd));
      continue;
    }
    const RemoveFrame done = std::move(stack.back());
    stack.pop_back();
    RETURN_IF_ERROR(Ascend(fd, stack.back()));
    if (::unlinkat(fd.get(), done.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Err(Error::FromErrno("rmdir", done.shown));
    }
  }
  fd.Reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("rmdir", path));
  }
  return Ok();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  while (!b.empty() && b.front() == '/') {
    b.remove_prefix(1);
  }
  out += '/';
  out += b;
  return out;
}

}  // namespace comet::os
