// File stamps (see file_stamp.h).
#include "api/file_stamp.h"

#include <time.h>

namespace comet::api {
namespace {

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(ts.tv_nsec);
}

}  // namespace

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? StampOf(st) : FileStamp{};
}

FileStamp StampOf(const struct stat& st) {
  return FileStamp{.exists = true,
                   .ino = static_cast<uint64_t>(st.st_ino),
                   .mtime_ns = Nanos(st.st_mtim),
                   .ctime_ns = Nanos(st.st_ctim),
                   .size = static_cast<int64_t>(st.st_size)};
}

int64_t NowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return Nanos(ts);
}

}  // namespace comet::api
