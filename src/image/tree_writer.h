// TreeWriter: places archive entries under a destination directory without ever following a
// symlink or leaving the directory (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or a component
// walk with O_NOFOLLOW). Used by the layer unpacker; internal to image/. Not thread-safe.
#ifndef COMET_IMAGE_TREE_WRITER_H_
#define COMET_IMAGE_TREE_WRITER_H_

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/result.h"
#include "image/unpack.h"
#include "os/unique_fd.h"

namespace comet::image {

// What an archive says about an entry's inode, ids already mapped to host ids.
struct EntryMeta {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t perm = 0;  // permission bits incl. setuid/setgid/sticky (already filtered)
  timespec mtime{};
  std::vector<std::pair<std::string, std::string>> xattrs;  // already filtered
};

// `id` mapped through `map` (container -> host); an empty map is the identity.
[[nodiscard]] std::optional<uint32_t> MapId(const std::vector<IdRange>& map, uint32_t id);

// Validates an archive path: drops empty and "." components (so a leading "/" or "./" goes),
// rejects ".." and over-long paths or components. `out` gets "a/b/c" ("" for the root).
[[nodiscard]] Status NormalizeEntryPath(std::string_view raw, std::string* out);

class TreeWriter {
 public:
  [[nodiscard]] static Result<TreeWriter> Open(const std::string& dest,
                                               const UnpackOptions& options);

  // Each takes a normalized, non-empty path. Existing non-directories at `path` are replaced.
  // Regular file: returns a writable fd; the caller writes data then calls FinishFile.
  [[nodiscard]] Result<os::UniqueFd> CreateFile(const std::string& path);
  [[nodiscard]] Status FinishFile(int fd, const EntryMeta& meta, const std::string& path);
  // Directory metadata is applied in Finish, after the children are in place.
  [[nodiscard]] Status CreateDirectory(const std::string& path, const EntryMeta& meta);
  [[nodiscard]] Status CreateSymlink(const std::string& path, const char* target,
                                     const EntryMeta& meta);
  // `target` is a normalized path; it must already exist and be a regular file or symlink.
  [[nodiscard]] Status CreateHardlink(const std::string& path, const std::string& target);
  [[nodiscard]] Status CreateNode(const std::string& path, mode_t type, dev_t device,
                                  const EntryMeta& meta);
  // `path` is the ".wh.<name>" or ".wh..wh..opq" entry itself.
  [[nodiscard]] Status ApplyWhiteout(const std::string& path, const EntryMeta& meta);
  // Metadata of the destination directory itself (a "./" entry).
  void SetRootMeta(const EntryMeta& meta);
  // Directory metadata, then syncfs.
  [[nodiscard]] Status Finish();

 private:
  TreeWriter(os::UniqueFd root, const UnpackOptions& options)
      : root_(std::move(root)), options_(&options) {}

  // Opens directory `dir` (normalized, "" = root) with `flags`; missing components are created
  // when `create`. Errors name the component that is a symlink or not a directory.
  [[nodiscard]] Result<os::UniqueFd> OpenDir(std::string_view dir, int flags, bool create);
  [[nodiscard]] Result<os::UniqueFd> WalkDir(std::string_view dir, int flags, bool create);
  // A directory the archive implies but does not list: 0755, owned by the container's root.
  [[nodiscard]] Status CreateImplicitDir(int parent_fd, const std::string& name,
                                         const std::string& path);
  // The parent directory of `path` (O_PATH, cached across entries) and the leaf name.
  [[nodiscard]] Result<int> Parent(const std::string& path, std::string_view* leaf);
  // Removes `name` in `dir_fd` (recursively for directories, never following symlinks).
  [[nodiscard]] Status RemoveAt(int dir_fd, std::string_view name, const std::string& path);
  [[nodiscard]] Status ClearOpaque(int dir_fd, const std::string& dir);
  // Runs `create` (a syscall returning -1/errno); on EEXIST removes the old entry, retries.
  template <typename F>
  [[nodiscard]] Status Replace(int dir_fd, std::string_view leaf, const std::string& path,
                               const char* op, F create);
  [[nodiscard]] Status ApplyXattrs(int fd, const EntryMeta& meta, const std::string& path);
  // Owner, mode (when `chmod`) and times of a non-directory by name, never following it.
  [[nodiscard]] Status ApplyLinkMeta(int dir_fd, std::string_view leaf, const EntryMeta& meta,
                                     const std::string& path, bool chmod);
  void Written(const std::string& path);

  os::UniqueFd root_;
  const UnpackOptions* options_;
  std::string cached_dir_;
  os::UniqueFd cached_fd_;
  bool cache_valid_ = false;
  bool implicit_owner_ = false;
  uid_t implicit_uid_ = 0;
  gid_t implicit_gid_ = 0;
  std::vector<std::pair<std::string, EntryMeta>> pending_dirs_;
  std::unordered_set<std::string> written_;  // kApply only: paths this layer wrote
  std::string scratch_;
};

}  // namespace comet::image

#endif  // COMET_IMAGE_TREE_WRITER_H_
