// File-system helpers of the image store: paths, stable flocks, directory fsync and the removal
// of layer trees whatever modes and flags an image gave them.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "image/store_internal.h"
#include "os/file.h"
#include "os/group_dir.h"

namespace comet::image::store_internal {

std::string LockPath(const std::string& root) {
  return os::JoinPath(root, "lock");
}
std::string IndexPath(const std::string& root) {
  return os::JoinPath(root, "index.json");
}
std::string IngestDir(const std::string& root) {
  return os::JoinPath(root, "ingest");
}
std::string ImagesDir(const std::string& root) {
  return os::JoinPath(root, "images");
}
std::string LeasesDir(const std::string& root) {
  return os::JoinPath(root, "leases");
}
std::string LayersTmpDir(const std::string& root) {
  return os::JoinPath(root, "layers/tmp");
}

mode_t ReadableDirMode(const std::string& root) {
  return os::SharedGroup(root) ? 0750 : 0700;
}
mode_t ReadableFileMode(const std::string& root) {
  return os::SharedGroup(root) ? 0640 : 0600;
}
std::string MetadataPath(const std::string& root, const Digest& manifest) {
  return os::JoinPath(ImagesDir(root), manifest.hex() + ".json");
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      // getrandom(2) cannot fail on Linux >= 3.17 with a valid buffer; fall back to the clock.
      n = static_cast<ssize_t>(bytes - got);
      for (size_t i = got; i < bytes; ++i) {
        raw[i] = static_cast<char>(::clock() ^ static_cast<long>(i * 131));
      }
    }
    got += static_cast<size_t>(n);
  }
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    out += kDigits[byte >> 4U];
    out += kDigits[byte & 0xfU];
  }
  return out;
}

Status FsyncDir(const std::string& dir) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) {
    return Err(Error::FromErrno("fsync", dir));
  }
  return Ok();
}

Result<os::UniqueFd> LockFile(const std::string& path, bool wait) {
  while (true) {
    ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(path, O_RDWR | O_CREAT, 0600));
    const int op = LOCK_EX | (wait ? 0 : LOCK_NB);
    while (::flock(fd.get(), op) != 0) {
      if (errno != EINTR) {
        return Err(Error::FromErrno("flock", path));
      }
    }
    // The holder before us may have unlinked the file: our lock is then on an orphan inode.
    struct stat held {};
    struct stat now {};
    if (::fstat(fd.get(), &held) != 0) {
      return Err(Error::FromErrno("fstat", path));
    }
    if (::stat(path.c_str(), &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev) {
      return fd;
    }
  }
}

Result<os::UniqueFd> LockStore(const std::string& root, bool shared) {
  const std::string path = LockPath(root);
  ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(path, O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), shared ? LOCK_SH : LOCK_EX) != 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("flock", path));
    }
  }
  return fd;
}

int64_t AgeSeconds(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return 0;
  }
  const int64_t age = static_cast<int64_t>(::time(nullptr)) - st.st_mtim.tv_sec;
  return age < 0 ? 0 : age;
}

namespace {

// Clears FS_IMMUTABLE_FL/FS_APPEND_FL of a regular file or directory (a layer unpacked with its
// file flags, or content someone chattr'ed); needs CAP_LINUX_IMMUTABLE, best effort.
void ClearFlags(int dirfd, const char* name) {
  const int fd = ::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  os::UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    return;
  }
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    return;
  }
  if ((flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) == 0) {
    return;
  }
  flags &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
  (void)::ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

int UnlinkWithRetry(int dirfd, const char* name, int flags) {
  if (::unlinkat(dirfd, name, flags) == 0) {
    return 0;
  }
  if (errno == EPERM || errno == EACCES) {
    ClearFlags(dirfd, name);
    return ::unlinkat(dirfd, name, flags);
  }
  return -1;
}

// One directory being emptied. Only the current directory's fd is open, whatever the depth
// (a hostile layer may nest ~2000 levels): the way back up is "..", checked against the
// identity recorded on the way down.
struct Frame {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;  // in its parent
  std::string shown;
  std::vector<std::string> pending;  // children not handled yet
};

Result<std::vector<std::string>> ListNames(int fd, const std::string& shown) {
  const int own = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) {
    return Err(Error::FromErrno("open", shown));
  }
  DIR* dir = ::fdopendir(own);
  if (dir == nullptr) {
    const auto err = Error::FromErrno("fdopendir", shown);
    ::close(own);
    return Err(err);
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view child = entry->d_name;
    if (child != "." && child != "..") {
      names.emplace_back(child);
    }
  }
  ::closedir(dir);
  return names;
}

// Opens directory `name` (made u+rwx first when removing) and describes it as a frame.
Result<std::optional<Frame>> Enter(int dirfd, const std::string& name, const struct stat& st,
                                   const std::string& shown, bool remove, os::UniqueFd& fd) {
  // A hostile layer may hold directories with mode 0000: make them ours to list and empty.
  if (remove && (st.st_mode & S_IRWXU) != S_IRWXU) {
    (void)!::fchmodat(dirfd, name.c_str(), (st.st_mode & 07777) | S_IRWXU, 0);
  }
  const int raw = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) {
      return std::optional<Frame>();
    }
    return Err(Error::FromErrno("open", shown));
  }
  os::UniqueFd opened(raw);
  Frame frame{.dev = st.st_dev, .ino = st.st_ino, .name = name, .shown = shown, .pending = {}};
  struct stat own {};
  if (::fstat(raw, &own) != 0) {
    return Err(Error::FromErrno("stat", shown));
  }
  frame.dev = own.st_dev;
  frame.ino = own.st_ino;
  ASSIGN_OR_RETURN(frame.pending, ListNames(raw, shown));
  fd = std::move(opened);
  return std::optional<Frame>(std::move(frame));
}

// Back to the parent of the directory `fd` is open on; fails when it was moved meanwhile.
Status Ascend(os::UniqueFd& fd, const Frame& parent) {
  const int raw = ::openat(fd.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return Err(Error::FromErrno("open", parent.shown));
  }
  os::UniqueFd up(raw);
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

// Handles the next pending child of the top frame: unlinks a non-directory (counting its
// bytes), or descends into a directory.
Status Step(std::vector<Frame>& stack, os::UniqueFd& fd, bool remove, uint64_t& bytes) {
  const std::string name = std::move(stack.back().pending.back());
  stack.back().pending.pop_back();
  const std::string shown = os::JoinPath(stack.back().shown, name);
  struct stat st {};
  if (::fstatat(fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    return Err(Error::FromErrno("stat", shown));
  }
  if (!S_ISDIR(st.st_mode)) {
    bytes += S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
    if (remove && UnlinkWithRetry(fd.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      return Err(Error::FromErrno("unlink", shown));
    }
    return Ok();
  }
  os::UniqueFd child;
  ASSIGN_OR_RETURN(std::optional<Frame> frame, Enter(fd.get(), name, st, shown, remove, child));
  if (frame) {
    stack.push_back(std::move(*frame));
    fd = std::move(child);
  }
  return Ok();
}

}  // namespace

Result<uint64_t> RemoveTree(const std::string& path, bool remove) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return uint64_t{0};
    }
    return Err(Error::FromErrno("stat", path));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (remove && UnlinkWithRetry(AT_FDCWD, path.c_str(), 0) != 0 && errno != ENOENT) {
      return Err(Error::FromErrno("unlink", path));
    }
    return S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : uint64_t{0};
  }
  os::UniqueFd fd;
  ASSIGN_OR_RETURN(std::optional<Frame> top, Enter(AT_FDCWD, path, st, path, remove, fd));
  if (!top) {
    return uint64_t{0};
  }
  std::vector<Frame> stack;
  stack.push_back(std::move(*top));
  uint64_t bytes = 0;
  while (stack.size() > 1 || !stack.back().pending.empty()) {
    if (!stack.back().pending.empty()) {
      RETURN_IF_ERROR(Step(stack, fd, remove, bytes));
      continue;
    }
    const Frame done = std::move(stack.back());
    stack.pop_back();
    RETURN_IF_ERROR(Ascend(fd, stack.back()));
    if (remove && UnlinkWithRetry(fd.get(), done.name.c_str(), AT_REMOVEDIR) != 0 &&
        errno != ENOENT) {
      return Err(Error::FromErrno("rmdir", done.shown));
    }
  }
  fd.Reset();
  if (remove && UnlinkWithRetry(AT_FDCWD, path.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("rmdir", path));
  }
  return bytes;
}

}  // namespace comet::image::store_internal
