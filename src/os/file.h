// File helpers: whole-file reads and writes, atomic replace, directory trees. All fds O_CLOEXEC.
// Thread-safe (no shared state).
#ifndef COMET_OS_FILE_H_
#define COMET_OS_FILE_H_

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::os {

[[nodiscard]] Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode = 0);
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);
// Reads at most `limit` bytes; fails with EFBIG when the file is larger (untrusted inputs).
[[nodiscard]] Result<std::string> ReadFileLimited(const std::string& path, size_t limit);
[[nodiscard]] Result<std::string> ReadFd(int fd, size_t limit);
// Writes `data` to an existing or new file, truncating it (no fsync; for /proc, /sys, cgroupfs).
[[nodiscard]] Status WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);
// Writes all of `data` to `fd`, retrying short writes and EINTR.
[[nodiscard]] Status WriteAll(int fd, std::string_view data);
// Writes to a temp file beside `path`, fsyncs it and renames it over `path`: readers see the old
// or the new content, never a torn one.
[[nodiscard]] Status WriteFileAtomic(const std::string& path, std::string_view data,
                                     mode_t mode = 0644);
// Like WriteFileAtomic without the fsync: readers still never see a torn file, but a power cut may
// lose the update. For state on tmpfs (/run), which does not survive a reboot anyway.
[[nodiscard]] Status ReplaceFile(const std::string& path, std::string_view data,
                                 mode_t mode = 0644);
// mkdir -p; existing directories are fine.
[[nodiscard]] Status MkdirAll(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks; a missing path is fine.
[[nodiscard]] Status RemoveAll(const std::string& path);
[[nodiscard]] bool Exists(const std::string& path);
[[nodiscard]] bool IsDirectory(const std::string& path);
// The names in the directory `path` ("." and ".." left out); a symlink at `path` is refused
// (ENOTDIR, as for a file).
[[nodiscard]] Result<std::vector<std::string>> ListDirectory(const std::string& path);
// Joins two path parts with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace comet::os

#endif  // COMET_OS_FILE_H_
