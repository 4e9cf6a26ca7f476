// File helpers.
#include "os/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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
  std::string partial;
  for (const std::string& part : Split(path, '/')) {
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

namespace {

Status RemoveAt(int dirfd, const char* name, const std::string& shown) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return Err(Error::FromErrno("unlink", shown));
  }
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", shown));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Err(Error::FromErrno("fdopendir", shown));
  }
  Status st = Ok();
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view child = entry->d_name;
    if (child == "." || child == "..") {
      continue;
    }
    st = RemoveAt(::dirfd(dir), entry->d_name, JoinPath(shown, child));
    if (!st) {
      break;
    }
  }
  ::closedir(dir);
  RETURN_IF_ERROR(st);
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("rmdir", shown));
  }
  return Ok();
}

}  // namespace

Status RemoveAll(const std::string& path) {
  return RemoveAt(AT_FDCWD, path.c_str(), path);
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
