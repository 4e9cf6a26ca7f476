// The copy fallback of snapshots: flattens overlay-format layer trees onto one directory, as
// overlayfs would show them merged. Walks by directory fds with O_NOFOLLOW so that no symlink
// from a layer, or from a lower layer's copy, is ever followed. Thread-compatible.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "image/snapshot_internal.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::image::internal {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Failures that mean "not permitted here" (rootless, or a filesystem without the feature):
// ownership, devices and some xattrs are then kept only when permitted.
bool NotPermitted(int code) {
  return code == EPERM || code == EINVAL || code == EACCES || code == EOPNOTSUPP;
}

Result<std::vector<std::string>> ListDir(int dir_fd, const std::string& shown) {
  int fd = ::openat(dir_fd, ".", kDirFlags);
  if (fd < 0) {
    return Err(Error::FromErrno("open", shown));
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Err(Error::FromErrno("fdopendir", shown));
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  int code = errno;
  ::closedir(dir);
  if (code != 0) {
    return Err(Error::FromCode(code, "readdir", shown));
  }
  return names;
}

// rm -rf of dir_fd/name, never following symlinks; a missing name is fine.
Status RemoveChild(int dir_fd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR && errno != EPERM) {
    return Err(Error::FromErrno("unlink", shown));
  }
  os::UniqueFd child(::openat(dir_fd, name.c_str(), kDirFlags));
  if (!child) {
    return Err(Error::FromErrno("open", shown));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(child.get(), shown));
  for (const std::string& n : names) {
    RETURN_IF_ERROR(RemoveChild(child.get(), n, os::JoinPath(shown, n)));
  }
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("rmdir", shown));
  }
  return Ok();
}

// The relative path of `name` in the directory at relative path `rel` ("" for the root).
std::string Child(const std::string& rel, const std::string& name) {
  if (rel.empty()) {
    return name;
  }
  std::string out = rel;
  out.append("/").append(name);
  return out;
}

bool IsOverlayXattr(std::string_view name) {
  return StartsWith(name, "trusted.overlay.") || StartsWith(name, "user.overlay.");
}

Status CopyXattrs(int src, int dst, const std::string& shown) {
  ssize_t size = ::flistxattr(src, nullptr, 0);
  if (size <= 0) {
    return size == 0 || errno == EOPNOTSUPP ? Ok() : Err(Error::FromErrno("listxattr", shown));
  }
  std::string names(static_cast<size_t>(size), '\0');
  size = ::flistxattr(src, names.data(), names.size());
  if (size < 0) {
    return Err(Error::FromErrno("listxattr", shown));
  }
  names.resize(static_cast<size_t>(size));
  for (const std::string& name : Split(names, '\0')) {
    if (name.empty() || IsOverlayXattr(name)) {
      continue;
    }
    ssize_t value_size = ::fgetxattr(src, name.c_str(), nullptr, 0);
    if (value_size < 0) {
      return Err(Error::FromErrno("getxattr " + name, shown));
    }
    std::string value(static_cast<size_t>(value_size), '\0');
    value_size = ::fgetxattr(src, name.c_str(), value.data(), value.size());
    if (value_size < 0) {
      return Err(Error::FromErrno("getxattr " + name, shown));
    }
    if (::fsetxattr(dst, name.c_str(), value.data(), static_cast<size_t>(value_size), 0) != 0 &&
        !NotPermitted(errno)) {
      return Err(Error::FromErrno("setxattr " + name, shown));
    }
  }
  return Ok();
}

// Owner, mode (after chown, which clears set-id bits), xattrs and times of an open file.
Status ApplyMetadata(int src, int dst, const struct stat& st, const std::string& shown) {
  if (::fchown(dst, st.st_uid, st.st_gid) != 0 && !NotPermitted(errno)) {
    return Err(Error::FromErrno("chown", shown));
  }
  if (::fchmod(dst, st.st_mode & 07777) != 0) {
    return Err(Error::FromErrno("chmod", shown));
  }
  RETURN_IF_ERROR(CopyXattrs(src, dst, shown));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(dst, times) != 0) {
    return Err(Error::FromErrno("utimens", shown));
  }
  return Ok();
}

// Owner and times of a symlink or special file, by name (no fd can be written through).
Status ApplyMetadataAt(int dir_fd, const std::string& name, const struct stat& st,
                       const std::string& shown) {
  if (::fchownat(dir_fd, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      !NotPermitted(errno)) {
    return Err(Error::FromErrno("chown", shown));
  }
  // The node was just made by us in our own tree, so following it for chmod is safe.
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dir_fd, name.c_str(), st.st_mode & 07777, 0) != 0) {
    return Err(Error::FromErrno("chmod", shown));
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(Error::FromErrno("utimens", shown));
  }
  return Ok();
}

// pwrite(2) of all of `data` at `offset`.
Status PWriteAll(int fd, std::string_view data, off_t offset, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Err(Error::FromErrno("write", shown));
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Ok();
}

// Copies the bytes [offset, end) of src to the same offsets of dst, by copy_file_range while
// `kernel_copy` holds (cleared when the kernel or filesystem cannot), else by pread/pwrite.
// Returns the offset reached: less than `end` when the source shrank.
Result<off_t> CopyRange(int src, int dst, off_t offset, off_t end, bool& kernel_copy,
                        const std::string& shown) {
  while (kernel_copy && offset < end) {
    loff_t in = offset;
    loff_t out = offset;
    ssize_t n = ::copy_file_range(src, &in, dst, &out, static_cast<size_t>(end - offset), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      kernel_copy = false;
      break;
    }
    if (n < 0) {
      return Err(Error::FromErrno("copy_file_range", shown));
    }
    if (n == 0) {
      return offset;
    }
    offset += n;
  }
  std::vector<char> buffer(offset < end ? size_t{128} * 1024 : 0);
  while (offset < end) {
    size_t want = std::min(buffer.size(), static_cast<size_t>(end - offset));
    ssize_t n = ::pread(src, buffer.data(), want, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Err(Error::FromErrno("read", shown));
    }
    if (n == 0) {
      return offset;
    }
    RETURN_IF_ERROR(
        PWriteAll(dst, std::string_view(buffer.data(), static_cast<size_t>(n)), offset, shown));
    offset += n;
  }
  return offset;
}

// The first data segment [data, hole) of src at or after `offset`, clamped to `size`; data ==
// size when only a hole is left. Without SEEK_DATA support the rest is one segment.
std::pair<off_t, off_t> NextDataSegment(int src, off_t offset, off_t size) {
  off_t data = ::lseek(src, offset, SEEK_DATA);
  if (data < 0) {
    return errno == ENXIO ? std::pair{size, size} : std::pair{offset, size};
  }
  if (data >= size) {
    return {size, size};
  }
  off_t hole = ::lseek(src, data, SEEK_HOLE);
  if (hole < 0 || hole > size) {
    hole = size;
  }
  return {data, hole};
}

// Reflink when the filesystem shares extents (holes stay holes), else copies only the data
// segments and leaves holes unwritten: a layer of a few bytes may declare a file of terabytes,
// which a plain copy would allocate in full on the host.
Status CopyContent(int src, int dst, off_t size, const std::string& shown) {
  if (::ioctl(dst, FICLONE, src) == 0) {
    return Ok();
  }
  bool kernel_copy = true;
  off_t length = size;
  off_t offset = 0;
  while (offset < size) {
    auto [data, hole] = NextDataSegment(src, offset, size);
    if (data >= size) {
      break;
    }
    ASSIGN_OR_RETURN(off_t reached, CopyRange(src, dst, data, hole, kernel_copy, shown));
    if (reached < hole) {
      length = reached;  // the file shrank: a layer tree is not ours to change, take what is there
      break;
    }
    offset = hole;
  }
  // Sets the size past a trailing hole, without allocating it.
  if (::ftruncate(dst, length) != 0) {
    return Err(Error::FromErrno("truncate", shown));
  }
  return Ok();
}

class LayerCopier {
 public:
  LayerCopier(int dest_root, std::string xattr_prefix)
      : dest_root_(dest_root), opaque_xattr_(std::move(xattr_prefix) + "overlay.opaque") {}

  Status CopyChildren(int src_dir, int dst_dir, const std::string& rel) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(src_dir, Shown(rel)));
    for (const std::string& name : names) {
      RETURN_IF_ERROR(CopyEntry(src_dir, dst_dir, name, Child(rel, name)));
    }
    return Ok();
  }

 private:
  static std::string Shown(const std::string& rel) { return "/" + rel; }

  Status CopyEntry(int src_dir, int dst_dir, const std::string& name, const std::string& rel) {
    struct stat st = {};
    if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Err(Error::FromErrno("stat", Shown(rel)));
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {  // a whiteout: the lower path is gone
      return RemoveChild(dst_dir, name, Shown(rel));
    }
    if (S_ISDIR(st.st_mode)) {
      return CopyDirectory(src_dir, dst_dir, name, st, rel);
    }
    RETURN_IF_ERROR(RemoveChild(dst_dir, name, Shown(rel)));  // replaces the lower entry
    if (S_ISREG(st.st_mode)) {
      return CopyFile(src_dir, dst_dir, name, st, rel);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<size_t>(n) >= target.size()) {
        return Err(Error::FromErrno("readlink", Shown(rel)));
      }
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dst_dir, name.c_str()) != 0) {
        return Err(Error::FromErrno("symlink", Shown(rel)));
      }
      return ApplyMetadataAt(dst_dir, name, st, Shown(rel));
    }
    // Fifos, sockets and devices; devices only when permitted (not in a user namespace).
    if (::mknodat(dst_dir, name.c_str(), st.st_mode, st.st_rdev) != 0) {
      if (errno == EPERM && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        return Ok();
      }
      return Err(Error::FromErrno("mknod", Shown(rel)));
    }
    return ApplyMetadataAt(dst_dir, name, st, Shown(rel));
  }

  Status CopyDirectory(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                       const std::string& rel) {
    struct stat existing = {};
    bool merge = ::fstatat(dst_dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (merge && !S_ISDIR(existing.st_mode)) {  // a directory hides a lower non-directory
      RETURN_IF_ERROR(RemoveChild(dst_dir, name, Shown(rel)));
      merge = false;
    }
    if (!merge && ::mkdirat(dst_dir, name.c_str(), 0700) != 0) {
      return Err(Error::FromErrno("mkdir", Shown(rel)));
    }
    os::UniqueFd src(::openat(src_dir, name.c_str(), kDirFlags));
    os::UniqueFd dst(::openat(dst_dir, name.c_str(), kDirFlags));
    if (!src || !dst) {
      return Err(Error::FromErrno("open", Shown(rel)));
    }
    if (merge && IsOpaque(src.get())) {  // lower layers' children are hidden
      ASSIGN_OR_RETURN(std::vector<std::string> lower, ListDir(dst.get(), Shown(rel)));
      for (const std::string& child : lower) {
        RETURN_IF_ERROR(RemoveChild(dst.get(), child, Shown(Child(rel, child))));
      }
    }
    RETURN_IF_ERROR(CopyChildren(src.get(), dst.get(), rel));
    // Last, so that writing the children does not change the directory's times.
    return ApplyMetadata(src.get(), dst.get(), st, Shown(rel));
  }

  bool IsOpaque(int dir_fd) const {
    char value[2] = {};
    return ::fgetxattr(dir_fd, opaque_xattr_.c_str(), value, sizeof(value)) == 1 && value[0] == 'y';
  }

  Status CopyFile(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                  const std::string& rel) {
    if (st.st_nlink > 1 && LinkToEarlierCopy(st, dst_dir, name)) {
      return Ok();
    }
    os::UniqueFd src(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!src) {
      return Err(Error::FromErrno("open", Shown(rel)));
    }
    os::UniqueFd dst(::openat(dst_dir, name.c_str(),
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!dst) {
      return Err(Error::FromErrno("create", Shown(rel)));
    }
    RETURN_IF_ERROR(CopyContent(src.get(), dst.get(), st.st_size, Shown(rel)));
    RETURN_IF_ERROR(ApplyMetadata(src.get(), dst.get(), st, Shown(rel)));
    if (st.st_nlink > 1) {
      copies_[{st.st_dev, st.st_ino}] = rel;
    }
    return Ok();
  }

  // Hard links within a layer stay links: the first copy's parent is reopened beneath the
  // destination root with no symlink on the way (openat2), then linked. False: copy instead.
  bool LinkToEarlierCopy(const struct stat& st, int dst_dir, const std::string& name) {
    auto it = copies_.find({st.st_dev, st.st_ino});
    if (it == copies_.end()) {
      return false;
    }
    const std::string& first = it->second;
    size_t slash = first.find_last_of('/');
    std::string parent = slash == std::string::npos ? "." : first.substr(0, slash);
    std::string base = slash == std::string::npos ? first : first.substr(slash + 1);
    struct open_how how = {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, dest_root_, parent.c_str(), &how, sizeof(how));
    if (fd < 0) {
      return false;
    }
    os::UniqueFd parent_fd(static_cast<int>(fd));
    return ::linkat(parent_fd.get(), base.c_str(), dst_dir, name.c_str(), 0) == 0;
  }

  int dest_root_;
  std::string opaque_xattr_;
  std::map<std::pair<dev_t, ino_t>, std::string> copies_;  // linked inode -> first copy
};

}  // namespace

Status CopyLayers(const std::vector<std::string>& layers, const std::string& dest,
                  const std::string& xattr_prefix) {
  ASSIGN_OR_RETURN(os::UniqueFd dest_fd, os::Open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const std::string& layer : layers) {
    ASSIGN_OR_RETURN(os::UniqueFd layer_fd, os::Open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    LayerCopier copier(dest_fd.get(), xattr_prefix);
    RETURN_IF_ERROR_CTX(copier.CopyChildren(layer_fd.get(), dest_fd.get(), ""),
                        "copying layer " + layer);
  }
  return Ok();
}

}  // namespace comet::image::internal
