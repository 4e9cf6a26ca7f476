// TreeWriter: see tree_writer.h. Every path is resolved relative to the destination's fd with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|...) or, on error or old kernels, a walk of
// openat(O_NOFOLLOW|O_DIRECTORY) per component, so an archive cannot make us follow a symlink.
#include "image/tree_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace comet::image {
namespace {

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxComponent = 255;

int OpenBeneath(int root, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(syscall(SYS_openat2, root, path.c_str(), &how, sizeof(how)));
}

std::string_view Dirname(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Names passed to *at() calls must be NUL-terminated; leaves are suffixes of a std::string, so
// they are.
const char* CStr(std::string_view leaf) {
  return leaf.data();
}

// "dir/name", or "name" under the root ("").
std::string ChildPath(const std::string& dir, std::string_view name) {
  std::string path;
  path.reserve(dir.size() + 1 + name.size());
  if (!dir.empty()) {
    path.append(dir);
    path.push_back('/');
  }
  path.append(name);
  return path;
}

Error EntryError(int code, std::string_view op, const std::string& path) {
  return Error::FromCode(code, op, path);
}

}  // namespace

Status NormalizeEntryPath(std::string_view raw, std::string* out) {
  out->clear();
  if (raw.size() > kMaxPath) {
    return Err(Error::Invalid("path is longer than " + std::to_string(kMaxPath) + " bytes"));
  }
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t end = std::min(raw.find('/', pos), raw.size());
    std::string_view part = raw.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return Err(Error::Invalid("path has a \"..\" component"));
    }
    if (part.size() > kMaxComponent) {
      return Err(Error::Invalid("path component is longer than " + std::to_string(kMaxComponent) +
                                " bytes"));
    }
    if (!out->empty()) {
      out->push_back('/');
    }
    out->append(part);
  }
  return Ok();
}

std::optional<uint32_t> MapId(const std::vector<IdRange>& map, uint32_t id) {
  if (map.empty()) {
    return id;
  }
  for (const IdRange& range : map) {
    if (id >= range.container_id && id - range.container_id < range.size) {
      return range.host_id + (id - range.container_id);
    }
  }
  return std::nullopt;
}

Result<TreeWriter> TreeWriter::Open(const std::string& dest, const UnpackOptions& options) {
  int fd = open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", dest));
  }
  TreeWriter writer(os::UniqueFd(fd), options);
  // Directories the archive implies but does not list belong to the container's root.
  std::optional<uint32_t> uid = MapId(options.uid_map, 0);
  std::optional<uint32_t> gid = MapId(options.gid_map, 0);
  writer.implicit_owner_ = uid.has_value() && gid.has_value();
  writer.implicit_uid_ = uid.value_or(0);
  writer.implicit_gid_ = gid.value_or(0);
  return writer;
}

Result<os::UniqueFd> TreeWriter::WalkDir(std::string_view dir, int flags, bool create) {
  os::UniqueFd current(fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (current.get() < 0) {
    return Err(Error::FromErrno("dup", "destination"));
  }
  size_t pos = 0;
  while (pos < dir.size()) {
    size_t end = std::min(dir.find('/', pos), dir.size());
    std::string name(dir.substr(pos, end - pos));
    std::string prefix(dir.substr(0, end));
    pos = end + 1;
    int open_flags = (end == dir.size() ? flags : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(current.get(), name.c_str(), open_flags);
    if (fd < 0 && errno == ENOENT && create) {
      RETURN_IF_ERROR(CreateImplicitDir(current.get(), name, prefix));
      fd = openat(current.get(), name.c_str(), open_flags);
    }
    if (fd < 0) {
      int saved = errno;
      struct stat st {};
      if ((saved == ENOTDIR || saved == ELOOP) &&
          fstatat(current.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return Err(Error::Invalid("parent " + prefix +
                                  (S_ISLNK(st.st_mode) ? " is a symlink" : " is not a directory")));
      }
      if (saved == ENOENT) {
        return Err(Error::NotFound("parent " + prefix + " does not exist"));
      }
      return Err(EntryError(saved, "open", prefix));
    }
    current = os::UniqueFd(fd);
  }
  if (dir.empty() && flags != O_PATH) {
    int fd = openat(root_.get(), ".", flags | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return Err(Error::FromErrno("open", "destination"));
    }
    current = os::UniqueFd(fd);
  }
  return current;
}

Status TreeWriter::CreateImplicitDir(int parent_fd, const std::string& name,
                                     const std::string& path) {
  if (mkdirat(parent_fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return Err(EntryError(errno, "mkdir", path));
  }
  if (options_->keep_ownership && implicit_owner_ &&
      fchownat(parent_fd, name.c_str(), implicit_uid_, implicit_gid_, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(EntryError(errno, "chown", path));
  }
  Written(path);
  return Ok();
}

Result<os::UniqueFd> TreeWriter::OpenDir(std::string_view dir, int flags, bool create) {
  scratch_.assign(dir.empty() ? "." : dir);
  int fd = OpenBeneath(root_.get(), scratch_, flags);
  if (fd >= 0) {
    return os::UniqueFd(fd);
  }
  // ENOENT: create parents; ELOOP/ENOTDIR/EXDEV: name the culprit; ENOSYS: old kernel; EAGAIN:
  // a concurrent rename. The walk handles all of them.
  return WalkDir(dir, flags, create);
}

Result<int> TreeWriter::Parent(const std::string& path, std::string_view* leaf) {
  std::string_view dir = Dirname(path);
  *leaf = Basename(path);
  if (dir.empty()) {
    return root_.get();
  }
  if (cache_valid_ && dir == cached_dir_) {
    return cached_fd_.get();
  }
  ASSIGN_OR_RETURN(cached_fd_, OpenDir(dir, O_PATH, /*create=*/true));
  cached_dir_.assign(dir);
  cache_valid_ = true;
  return cached_fd_.get();
}

void TreeWriter::Written(const std::string& path) {
  if (options_->whiteouts != UnpackOptions::Whiteouts::kApply) {
    return;
  }
  // Parents count as written too (archives need not list them): an opaque whiteout keeps them.
  std::string_view current = path;
  while (!current.empty() && written_.emplace(current).second) {
    current = Dirname(current);
  }
}

Status TreeWriter::RemoveAt(int dir_fd, std::string_view name, const std::string& path) {
  // Whatever goes may be the cached parent or one of its ancestors: resolve it again next time
  // (the fd itself stays open, callers may hold it).
  cached_dir_.clear();
  cache_valid_ = false;
  if (unlinkat(dir_fd, CStr(name), 0) == 0 || errno == ENOENT) {
    return Ok();
  }
  if (errno != EISDIR) {
    return Err(EntryError(errno, "unlink", path));
  }
  int fd = openat(dir_fd, CStr(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Err(EntryError(errno, "open", path));
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    close(fd);
    return Err(EntryError(errno, "opendir", path));
  }
  std::vector<std::string> children;
  while (dirent* ent = readdir(dir)) {  // NOLINT(concurrency-mt-unsafe): dir is ours alone
    if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0) {
      children.emplace_back(ent->d_name);
    }
  }
  Status status = Ok();
  for (const std::string& child : children) {
    status = RemoveAt(dirfd(dir), child, ChildPath(path, child));
    if (!status) {
      break;
    }
  }
  closedir(dir);
  RETURN_IF_ERROR(status);
  if (unlinkat(dir_fd, CStr(name), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Err(EntryError(errno, "rmdir", path));
  }
  return Ok();
}

template <typename F>
Status TreeWriter::Replace(int dir_fd, std::string_view leaf, const std::string& path,
                           const char* op, F create) {
  if (create() == 0) {
    return Ok();
  }
  if (errno != EEXIST) {
    return Err(EntryError(errno, op, path));
  }
  RETURN_IF_ERROR(RemoveAt(dir_fd, leaf, path));
  if (create() != 0) {
    return Err(EntryError(errno, op, path));
  }
  return Ok();
}

Status TreeWriter::ApplyXattrs(int fd, const EntryMeta& meta, const std::string& path) {
  for (const auto& [name, value] : meta.xattrs) {
    if (fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) {
      continue;
    }
    // Rootless, security.capability needs CAP_SETFCAP and some file systems lack user xattrs:
    // the file is still usable without them.
    if (!options_->keep_ownership && (errno == EPERM || errno == ENOTSUP)) {
      continue;
    }
    return Err(EntryError(errno, "setxattr " + name, path));
  }
  return Ok();
}

Result<os::UniqueFd> TreeWriter::CreateFile(const std::string& path) {
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(path, &leaf));
  int fd = -1;
  RETURN_IF_ERROR(Replace(dir_fd, leaf, path, "create", [&] {
    fd = openat(dir_fd, CStr(leaf), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    return fd < 0 ? -1 : 0;
  }));
  Written(path);
  return os::UniqueFd(fd);
}

Status TreeWriter::FinishFile(int fd, const EntryMeta& meta, const std::string& path) {
  if (options_->keep_ownership && fchown(fd, meta.uid, meta.gid) != 0) {
    return Err(EntryError(errno, "chown", path));
  }
  // After chown, which clears setuid/setgid.
  if (fchmod(fd, meta.perm) != 0) {
    return Err(EntryError(errno, "chmod", path));
  }
  RETURN_IF_ERROR(ApplyXattrs(fd, meta, path));
  timespec times[2] = {meta.mtime, meta.mtime};
  if (futimens(fd, times) != 0) {
    return Err(EntryError(errno, "utimensat", path));
  }
  return Ok();
}

Status TreeWriter::CreateDirectory(const std::string& path, const EntryMeta& meta) {
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(path, &leaf));
  // 0700 until Finish applies the real mode, so that a read-only directory can be filled.
  if (mkdirat(dir_fd, CStr(leaf), 0700) != 0) {
    if (errno != EEXIST) {
      return Err(EntryError(errno, "mkdir", path));
    }
    struct stat st {};
    if (fstatat(dir_fd, CStr(leaf), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Err(EntryError(errno, "stat", path));
    }
    if (!S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(RemoveAt(dir_fd, leaf, path));
      ASSIGN_OR_RETURN(dir_fd, Parent(path, &leaf));
      if (mkdirat(dir_fd, CStr(leaf), 0700) != 0) {
        return Err(EntryError(errno, "mkdir", path));
      }
    }
  }
  Written(path);
  if (!meta.xattrs.empty()) {
    int fd = openat(dir_fd, CStr(leaf), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return Err(EntryError(errno, "open", path));
    }
    os::UniqueFd dir(fd);
    RETURN_IF_ERROR(ApplyXattrs(dir.get(), meta, path));
  }
  pending_dirs_.emplace_back(path, meta);
  pending_dirs_.back().second.xattrs.clear();
  return Ok();
}

Status TreeWriter::ApplyLinkMeta(int dir_fd, std::string_view leaf, const EntryMeta& meta,
                                 const std::string& path, bool chmod) {
  if (options_->keep_ownership &&
      fchownat(dir_fd, CStr(leaf), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(EntryError(errno, "chown", path));
  }
  // Only for nodes we just created (never symlinks, whose mode Linux ignores).
  if (chmod && fchmodat(dir_fd, CStr(leaf), meta.perm, 0) != 0) {
    return Err(EntryError(errno, "chmod", path));
  }
  timespec times[2] = {meta.mtime, meta.mtime};
  if (utimensat(dir_fd, CStr(leaf), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err(EntryError(errno, "utimensat", path));
  }
  return Ok();
}

Status TreeWriter::CreateSymlink(const std::string& path, const char* target,
                                 const EntryMeta& meta) {
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(path, &leaf));
  // The target is stored verbatim: a symlink is only dangerous when followed, and we never
  // follow one.
  RETURN_IF_ERROR(Replace(dir_fd, leaf, path, "symlink",
                          [&] { return symlinkat(target, dir_fd, CStr(leaf)); }));
  Written(path);
  return ApplyLinkMeta(dir_fd, leaf, meta, path, /*chmod=*/false);
}

Status TreeWriter::CreateHardlink(const std::string& path, const std::string& target) {
  std::string_view target_leaf = Basename(target);
  std::string_view target_dir = Dirname(target);
  Result<os::UniqueFd> target_dir_fd_or = OpenDir(target_dir, O_PATH, /*create=*/false);
  if (!target_dir_fd_or) {
    return Err(std::move(target_dir_fd_or).error().AddContext("hardlink target " + target));
  }
  os::UniqueFd target_dir_fd = std::move(target_dir_fd_or).value();
  struct stat target_st {};
  if (fstatat(target_dir_fd.get(), CStr(target_leaf), &target_st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      return Err(Error::NotFound("hardlink target " + target + " does not exist"));
    }
    return Err(EntryError(errno, "stat", target));
  }
  if (!S_ISREG(target_st.st_mode) && !S_ISLNK(target_st.st_mode)) {
    return Err(Error::Invalid("hardlink target " + target + " is not a regular file or symlink"));
  }
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(path, &leaf));
  struct stat st {};
  if (fstatat(dir_fd, CStr(leaf), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == target_st.st_dev &&
      st.st_ino == target_st.st_ino) {
    return Ok();  // already that inode (a link to itself, or a repeated entry)
  }
  // flags 0: a symlink target is linked itself, not followed.
  RETURN_IF_ERROR(Replace(dir_fd, leaf, path, "link", [&] {
    return linkat(target_dir_fd.get(), CStr(target_leaf), dir_fd, CStr(leaf), 0);
  }));
  Written(path);
  return Ok();
}

Status TreeWriter::CreateNode(const std::string& path, mode_t type, dev_t device,
                              const EntryMeta& meta) {
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(path, &leaf));
  RETURN_IF_ERROR(Replace(dir_fd, leaf, path, "mknod",
                          [&] { return mknodat(dir_fd, CStr(leaf), type | 0600, device); }));
  Written(path);
  return ApplyLinkMeta(dir_fd, leaf, meta, path, /*chmod=*/true);
}

Status TreeWriter::ApplyWhiteout(const std::string& path, const EntryMeta& meta) {
  std::string_view name = Basename(path).substr(4);  // after ".wh."
  bool apply = options_->whiteouts == UnpackOptions::Whiteouts::kApply;
  std::string_view dir = Dirname(path);
  std::string dir_path(dir);
  if (name == ".wh..opq") {
    Result<os::UniqueFd> dir_fd = OpenDir(dir, O_RDONLY, /*create=*/!apply);
    if (apply && !dir_fd && dir_fd.error().code() == ENOENT) {
      return Ok();
    }
    if (!dir_fd) {
      return Err(std::move(dir_fd).error());
    }
    if (apply) {
      return ClearOpaque(dir_fd->get(), dir_path);
    }
    std::string xattr = options_->overlay_xattr_prefix + "overlay.opaque";
    if (fsetxattr(dir_fd->get(), xattr.c_str(), "y", 1, 0) != 0) {
      return Err(EntryError(errno, "setxattr " + xattr, dir_path));
    }
    return Ok();
  }
  if (name.starts_with(".wh.")) {
    return Ok();  // aufs bookkeeping (.wh..wh.plnk...): nothing
  }
  if (name.empty() || name == "." || name == "..") {
    return Err(Error::Invalid("whiteout names no file"));
  }
  std::string target = dir.empty() ? std::string(name) : dir_path + "/" + std::string(name);
  if (apply) {
    Result<os::UniqueFd> dir_fd = OpenDir(dir, O_PATH, /*create=*/false);
    if (!dir_fd && dir_fd.error().code() == ENOENT) {
      return Ok();
    }
    if (!dir_fd) {
      return Err(std::move(dir_fd).error());
    }
    return RemoveAt(dir_fd->get(), name, target);
  }
  // overlayfs whiteout: a character device 0/0 under the hidden file's name.
  std::string_view leaf;
  ASSIGN_OR_RETURN(int dir_fd, Parent(target, &leaf));
  RETURN_IF_ERROR(Replace(dir_fd, leaf, target, "mknod whiteout", [&] {
    return mknodat(dir_fd, CStr(leaf), S_IFCHR | 0600, makedev(0, 0));
  }));
  EntryMeta node_meta = meta;
  node_meta.perm = 0;
  return ApplyLinkMeta(dir_fd, leaf, node_meta, target, /*chmod=*/false);
}

Status TreeWriter::ClearOpaque(int dir_fd, const std::string& dir) {
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Err(EntryError(errno, "open", dir));
  }
  DIR* stream = fdopendir(fd);
  if (stream == nullptr) {
    close(fd);
    return Err(EntryError(errno, "opendir", dir));
  }
  std::vector<std::pair<std::string, bool>> children;  // name, is a directory
  while (dirent* ent = readdir(stream)) {  // NOLINT(concurrency-mt-unsafe): stream is ours alone
    if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0) {
      children.emplace_back(ent->d_name, ent->d_type == DT_DIR);
    }
  }
  closedir(stream);
  for (const auto& [name, is_dir] : children) {
    std::string path = ChildPath(dir, name);
    if (!written_.contains(path)) {
      RETURN_IF_ERROR(RemoveAt(dir_fd, name, path));
    } else if (is_dir) {
      // Written by this layer, but what lower layers put inside it is hidden too.
      int child = openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        return Err(EntryError(errno, "open", path));
      }
      os::UniqueFd child_fd(child);
      RETURN_IF_ERROR(ClearOpaque(child_fd.get(), path));
    }
  }
  return Ok();
}

void TreeWriter::SetRootMeta(const EntryMeta& meta) {
  pending_dirs_.emplace_back(std::string(), meta);
  pending_dirs_.back().second.xattrs.clear();
}

Status TreeWriter::Finish() {
  // Children first (reverse archive order), so a directory made read-only does not block its
  // children's metadata, and so its mtime is set after its last change.
  // The last entry for a directory wins.
  std::unordered_set<std::string_view> done;
  for (auto it = pending_dirs_.rbegin(); it != pending_dirs_.rend(); ++it) {
    const auto& [path, meta] = *it;
    if (!done.insert(path).second) {
      continue;
    }
    Result<os::UniqueFd> dir = OpenDir(path, O_RDONLY, /*create=*/false);
    if (!dir) {
      // Replaced by a later entry (a file or symlink) or removed by a whiteout: nothing to do.
      if (dir.error().code() == ENOENT || dir.error().code() == EINVAL) {
        continue;
      }
      return Err(std::move(dir).error());
    }
    RETURN_IF_ERROR(FinishFile(dir->get(), meta, path.empty() ? "." : path));
  }
  // One syncfs instead of an fsync per file: the tree is renamed into place only afterwards.
  int fd = openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Err(Error::FromErrno("open", "destination"));
  }
  os::UniqueFd root(fd);
  if (syncfs(root.get()) != 0) {
    return Err(Error::FromErrno("syncfs", "destination"));
  }
  return Ok();
}

}  // namespace comet::image
