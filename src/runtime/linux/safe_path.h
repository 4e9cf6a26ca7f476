// Resolving paths inside a container rootfs without escaping it: openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS) relative to an fd of the rootfs, so "..", absolute and relative
// symlinks all stay inside. Runs between clone and exec: async-signal-safe, no allocation;
// functions return -1 with errno set on failure.
#ifndef COMET_RUNTIME_LINUX_SAFE_PATH_H_
#define COMET_RUNTIME_LINUX_SAFE_PATH_H_

#include <cstddef>

namespace comet::runtime {

enum class CreateAs {
  kNothing,    // fail with ENOENT when missing
  kDirectory,  // mkdir the missing components
  kFile,       // mkdir the missing parents, create the last component as an empty file
};

// Opens `path` (as seen from inside the root) relative to `root_fd`. `flags` get O_CLOEXEC.
int OpenInRoot(int root_fd, const char* path, int flags) noexcept;

// An O_PATH fd of `path` inside the root, creating what is missing as `create` says. Missing
// components are created one at a time, each resolved again inside the root, so a symlink met on
// the way cannot lead outside.
int OpenOrCreateInRoot(int root_fd, const char* path, CreateAs create) noexcept;

// An O_PATH fd of the directory holding `path` (created when missing) and its last component,
// copied into `name`. Fails with EINVAL when the last component is "", "." or "..".
int OpenParentInRoot(int root_fd, const char* path, char* name, size_t name_size) noexcept;

// "/proc/self/fd/N": the path through which mount(2) reaches an O_PATH fd. Fixed-size.
class FdPath {
 public:
  explicit FdPath(int fd) noexcept;
  [[nodiscard]] const char* Path() const noexcept { return buf_; }

 private:
  char buf_[32] = {};
};

// Bounded copy with NUL termination; returns false when `src` did not fit.
bool CopyString(char* dst, size_t size, const char* src) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_SAFE_PATH_H_
