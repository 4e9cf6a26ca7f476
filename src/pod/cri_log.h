// Container logs in the Kubernetes CRI format, one record per line:
//   <RFC3339Nano> <stdout|stderr> <P|F> <content>
// P marks a partial record (the line goes on in the next record), F a full one (the newline is
// not stored). Written by the supervisor, read by `comet logs`, the api-service and the kubelet.
// A writer is not thread-safe; readers share nothing.
#ifndef COMET_POD_CRI_LOG_H_
#define COMET_POD_CRI_LOG_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::pod {

enum class LogStream { kStdout, kStderr };

// The longest content of one record; longer lines are split into P records (the kubelet's
// limit is 16 KiB too).
inline constexpr size_t kMaxLogRecordContent = size_t{16} * 1024;
// The longest line a reader rejoins from P records (the memory a hostile app's endless partial
// line may cost `comet logs`); longer ones are cut into lines of this size.
inline constexpr size_t kMaxLogLineContent = size_t{1} << 20;

class CriLogWriter {
 public:
  // Opens (creates 0640, appends) the log file.
  [[nodiscard]] static Result<CriLogWriter> Open(const std::string& path);

  // One chunk as read from the app's pipe or pty: each complete line becomes an F record, what
  // follows the last newline a P record (written now, not held back, so a prompt without a
  // newline is seen at once). "\r\n" from a pty counts as one newline. One write(2) per call.
  [[nodiscard]] Status Write(LogStream stream, std::string_view chunk);

 private:
  explicit CriLogWriter(os::UniqueFd fd) : fd_(std::move(fd)) {}
  os::UniqueFd fd_;
};

struct LogRecord {
  std::chrono::system_clock::time_point time;
  std::string_view time_text;  // as written (points into the parsed line)
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string_view content;
};

// Parses one line (without its newline). Invalid lines are an error naming what is wrong.
[[nodiscard]] Result<LogRecord> ParseLogLine(std::string_view line);

// Bytes that reads may hold in memory at once (their tail windows, a caller's merge), shared by
// the reads of one request and, through `parent`, by every request of a process: a tail of N
// lines of up to kMaxLogLineContent each must not cost N MiB. Thread-safe.
class LogMemoryBudget {
 public:
  // `exhausted` is the error message when this budget (not its parent) would pass `limit`.
  LogMemoryBudget(size_t limit, std::string exhausted, LogMemoryBudget* parent = nullptr)
      : limit_(limit), exhausted_(std::move(exhausted)), parent_(parent) {}
  LogMemoryBudget(const LogMemoryBudget&) = delete;
  LogMemoryBudget& operator=(const LogMemoryBudget&) = delete;
  LogMemoryBudget(LogMemoryBudget&&) = delete;
  LogMemoryBudget& operator=(LogMemoryBudget&&) = delete;
  ~LogMemoryBudget() = default;

  // Takes `bytes` from this budget and its parent, or nothing: ENOMEM with the message of the
  // one that would pass its limit.
  [[nodiscard]] Status Take(size_t bytes);
  // Gives back bytes taken before.
  void Give(size_t bytes);
  [[nodiscard]] size_t used() const { return used_.load(); }
  [[nodiscard]] size_t peak() const { return peak_.load(); }  // the most ever used at once
  [[nodiscard]] size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  const std::string exhausted_;
  LogMemoryBudget* const parent_;
  std::atomic<size_t> used_{0};
  std::atomic<size_t> peak_{0};
};

struct LogReadOptions {
  std::optional<std::chrono::system_clock::time_point> since;  // records at or after
  std::optional<std::chrono::system_clock::time_point> until;  // records before
  int64_t tail_lines = -1;  // the last N lines only (after since/until); -1: all
  // The tail window's lines are charged here (nullptr: unbounded): past it the read fails with
  // ENOMEM, before the sink has seen any line.
  LogMemoryBudget* budget = nullptr;
  int64_t max_lines = -1;  // stop after N lines; -1: no limit
  bool follow = false;     // after the end, wait for more until keep_following() is false
  // Called while following, about every 100 ms of quiet; return false to stop (the pod exited,
  // the client went away).
  std::function<bool()> keep_following;
};

// One reassembled line: P records joined with the F record that ends them (a trailing P at the
// end of a finished log counts as a line). `time` is the first record's.
struct LogLine {
  std::chrono::system_clock::time_point time;
  std::string time_text;
  LogStream stream = LogStream::kStdout;
  std::string content;  // without the newline
};

// Reads the log at `path` and calls `sink` per line in order. Malformed lines are skipped (a
// crash can leave a torn last line). A missing file while following is waited for; otherwise it
// is NotFound. The sink's error stops the read and is returned.
[[nodiscard]] Status ReadLog(const std::string& path, const LogReadOptions& options,
                             const std::function<Status(const LogLine&)>& sink);

}  // namespace comet::pod

#endif  // COMET_POD_CRI_LOG_H_
