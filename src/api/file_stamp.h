// Stamps of files and directories (inode, mtime, ctime, size) that the api-service's caches
// compare to tell cheaply whether what they read has changed, and the "racy timestamp" rule that
// keeps them honest. Thread-safe (pure functions).
#ifndef COMET_API_FILE_STAMP_H_
#define COMET_API_FILE_STAMP_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace comet::api {

// What a file or directory looked like (stat(2), following symlinks). comet's writers replace
// files by rename(2) (a new inode), and every rename into a directory changes its mtime.
struct FileStamp {
  bool exists = false;
  uint64_t ino = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t size = 0;
  bool operator==(const FileStamp&) const = default;
  [[nodiscard]] int64_t NewestNs() const { return mtime_ns > ctime_ns ? mtime_ns : ctime_ns; }
};
[[nodiscard]] FileStamp StampOf(const std::string& path);  // exists = false when stat fails
[[nodiscard]] FileStamp StampOf(const struct stat& st);

// Timestamps come from the kernel's coarse clock (one tick, a few ms): a file changed twice in
// one tick keeps its mtime, and one replaced by rename may even get the old inode number back.
// So what was read while its stamp was this young is not trusted: it is read again next time.
inline constexpr int64_t kRacyWindowNs = 50'000'000;

// CLOCK_REALTIME in ns (file timestamps are on that clock).
[[nodiscard]] int64_t NowNs();

// True when a stamp whose newest time is `newest_ns`, taken by a read that started at
// `read_start_ns` (NowNs), may miss a change made in the same clock tick.
[[nodiscard]] inline bool IsRacy(int64_t newest_ns, int64_t read_start_ns) {
  return newest_ns >= read_start_ns - kRacyWindowNs;
}

}  // namespace comet::api

#endif  // COMET_API_FILE_STAMP_H_
