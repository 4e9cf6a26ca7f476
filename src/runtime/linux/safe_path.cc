// OpenInRoot, OpenOrCreateInRoot: openat2(2) based resolution inside a rootfs.
// Async-signal-safe and thread-safe (stack buffers only).
#include "runtime/linux/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace comet::runtime {
namespace {

// Closes without disturbing errno (a failed step's errno is what gets reported).
void CloseKeepErrno(int fd) noexcept {
  int saved = errno;
  ::close(fd);
  errno = saved;
}

// Creates `name` in `parent_fd`; an existing entry is fine (the next lookup decides).
int CreateComponent(int parent_fd, const char* name, bool as_file) noexcept {
  if (as_file) {
    int fd = ::openat(parent_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return 0;
    }
  } else if (::mkdirat(parent_fd, name, 0755) == 0) {
    return 0;
  }
  return errno == EEXIST ? 0 : -1;
}

}  // namespace

int OpenInRoot(int root_fd, const char* path, int flags) noexcept {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a concurrent rename or mount made the kernel unsure the walk stayed inside; retry.
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0) {
      return static_cast<int>(fd);
    }
    if (errno != EAGAIN && errno != EINTR) {
      break;
    }
  }
  return -1;
}

// When `name` in `parent_fd` is a dangling symlink, rewrites the walk so that it continues at
// the link's target, which is then created inside the root like any other missing path (what
// `mkdir -p` through a symlink does, minus the escape). `buf` holds the path being walked, `start`
// and `end` delimit the component. Returns 1 when rewritten, 0 when `name` is no symlink, -1.
static int SpliceSymlink(int parent_fd, char* buf, size_t size, size_t start, size_t end) noexcept {
  struct stat st {};
  if (::fstatat(parent_fd, buf + start, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return -1;
  }
  if (!S_ISLNK(st.st_mode)) {
    return 0;
  }
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(parent_fd, buf + start, target, sizeof(target) - 1);
  if (n < 0) {
    return -1;
  }
  target[n] = '\0';
  char out[PATH_MAX];
  size_t o = 0;
  auto append = [&](const char* text, size_t count) {
    for (size_t i = 0; i < count && text[i] != '\0'; ++i) {
      if (o + 1 >= sizeof(out)) {
        return false;
      }
      out[o++] = text[i];
    }
    return true;
  };
  const char* rest = buf + end + 1;
  bool ok = (target[0] == '/' || append(buf, start)) && append(target, PATH_MAX) &&
            (rest[0] == '\0' || (append("/", 1) && append(rest, PATH_MAX)));
  if (!ok || o + 1 > size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  out[o] = '\0';
  std::memcpy(buf, out, o + 1);
  return 1;
}

// Creates the missing component buf[start, pos) (buf[pos] temporarily NUL, the original byte in
// `saved`). Returns 0 when created, 1 when the walk was rewritten through a symlink, -1.
static int CreateOne(int root_fd, char* buf, size_t size, size_t start, size_t pos, char saved,
                     CreateAs create) noexcept {
  // The prefix before this component exists (it was checked or created last round).
  char first = buf[start];
  buf[start] = '\0';
  int parent = OpenInRoot(root_fd, start == 0 ? "/" : buf, O_PATH | O_DIRECTORY);
  buf[start] = first;
  if (parent < 0) {
    return -1;
  }
  size_t rest = pos;
  while (saved != '\0' && buf[rest + 1] == '/') {
    ++rest;
  }
  bool last = saved == '\0' || buf[rest + 1] == '\0';
  int rc = CreateComponent(parent, buf + start, last && create == CreateAs::kFile);
  if (rc == 0) {
    // buf + start is the component, buf + pos + 1 the rest (when there is one).
    rc = SpliceSymlink(parent, buf, size, start, saved == '\0' ? pos - 1 : pos);
  }
  CloseKeepErrno(parent);
  return rc;
}

// Walks `buf` component by component, creating what is missing in the root.
static int CreateMissing(int root_fd, char* buf, size_t size, CreateAs create) noexcept {
  int links = 0;
  size_t pos = 0;
  while (buf[pos] != '\0') {
    while (buf[pos] == '/') {
      ++pos;
    }
    size_t start = pos;
    while (buf[pos] != '\0' && buf[pos] != '/') {
      ++pos;
    }
    if (start == pos) {
      break;
    }
    char saved = buf[pos];
    buf[pos] = '\0';
    int probe = OpenInRoot(root_fd, buf, O_PATH);
    if (probe >= 0) {
      ::close(probe);
      buf[pos] = saved;
      continue;
    }
    if (errno != ENOENT) {
      return -1;
    }
    int rc = CreateOne(root_fd, buf, size, start, pos, saved, create);
    if (rc < 0) {
      return -1;
    }
    if (rc == 0) {
      buf[pos] = saved;
    } else if (++links > 40) {
      errno = ELOOP;
      return -1;
    } else {
      pos = 0;  // walk the rewritten path from the start
    }
  }
  return 0;
}

int OpenOrCreateInRoot(int root_fd, const char* path, CreateAs create) noexcept {
  int fd = OpenInRoot(root_fd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || create == CreateAs::kNothing) {
    return fd;
  }
  char buf[PATH_MAX];
  if (!CopyString(buf, sizeof(buf), path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (CreateMissing(root_fd, buf, sizeof(buf), create) != 0) {
    return -1;
  }
  return OpenInRoot(root_fd, buf, O_PATH);
}

int OpenParentInRoot(int root_fd, const char* path, char* name, size_t name_size) noexcept {
  char parent[PATH_MAX];
  if (!CopyString(parent, sizeof(parent), path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  size_t len = std::strlen(parent);
  while (len > 1 && parent[len - 1] == '/') {
    parent[--len] = '\0';
  }
  char* slash = std::strrchr(parent, '/');
  const char* last = slash != nullptr ? slash + 1 : parent;
  if (last[0] == '\0' || std::strcmp(last, ".") == 0 || std::strcmp(last, "..") == 0 ||
      !CopyString(name, name_size, last)) {
    errno = EINVAL;
    return -1;
  }
  if (slash != nullptr) {
    slash[1] = '\0';
  } else {
    parent[0] = '/';
    parent[1] = '\0';
  }
  return OpenOrCreateInRoot(root_fd, parent, CreateAs::kDirectory);
}

FdPath::FdPath(int fd) noexcept {
  static constexpr char kPrefix[] = "/proc/self/fd/";
  char digits[16];
  size_t n = 0;
  auto value = static_cast<unsigned int>(fd < 0 ? 0 : fd);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < sizeof(digits));
  size_t i = 0;
  for (; kPrefix[i] != '\0'; ++i) {
    buf_[i] = kPrefix[i];
  }
  while (n > 0) {
    buf_[i++] = digits[--n];
  }
  buf_[i] = '\0';
}

bool CopyString(char* dst, size_t size, const char* src) noexcept {
  size_t i = 0;
  for (; i + 1 < size && src[i] != '\0'; ++i) {
    dst[i] = src[i];
  }
  dst[i] = '\0';
  return src[i] == '\0';
}

}  // namespace comet::runtime
