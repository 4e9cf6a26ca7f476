// CRI log writing (one write per chunk) and reading (since/until, tail from the end of big
// files, follow by polling every 100 ms, truncation restarts from the top).
#include "pod/cri_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <thread>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"

namespace comet::pod {
namespace {

constexpr size_t kReadBlock = size_t{64} * 1024;
// A line longer than this is not one we wrote (content + a timestamp and tags): skipped.
constexpr size_t kMaxLineBytes = kMaxLogRecordContent + 256;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

std::string_view StreamName(LogStream stream) {
  return stream == LogStream::kStdout ? "stdout" : "stderr";
}

void AppendRecord(std::string* out, std::string_view time, LogStream stream, bool partial,
                  std::string_view content) {
  out->append(time);
  out->push_back(' ');
  out->append(StreamName(stream));
  out->append(partial ? " P " : " F ");
  out->append(content);
  out->push_back('\n');
}

// Splits `content` into records of at most kMaxLogRecordContent bytes; only the last one carries
// the line's own partial flag.
void AppendLine(std::string* out, std::string_view time, LogStream stream, bool partial,
                std::string_view content) {
  while (content.size() > kMaxLogRecordContent) {
    AppendRecord(out, time, stream, true, content.substr(0, kMaxLogRecordContent));
    content.remove_prefix(kMaxLogRecordContent);
  }
  AppendRecord(out, time, stream, partial, content);
}

}  // namespace

Result<CriLogWriter> CriLogWriter::Open(const std::string& path) {
  ASSIGN_OR_RETURN(os::UniqueFd fd,
                   os::Open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0640));
  return CriLogWriter(std::move(fd));
}

Status CriLogWriter::Write(LogStream stream, std::string_view chunk) {
  if (chunk.empty()) {
    return Ok();
  }
  std::string time = FormatRfc3339Nano(std::chrono::system_clock::now());
  std::string out;
  out.reserve(chunk.size() + 64);
  while (!chunk.empty()) {
    size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      AppendLine(&out, time, stream, true, chunk);
      break;
    }
    std::string_view line = chunk.substr(0, newline);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    AppendLine(&out, time, stream, false, line);
    chunk.remove_prefix(newline + 1);
  }
  return os::WriteAll(fd_.get(), out);
}

Status LogMemoryBudget::Take(size_t bytes) {
  size_t used = used_.load();
  do {
    if (used + bytes > limit_ || used + bytes < used) {
      return Err(Error(ENOMEM, exhausted_));
    }
  } while (!used_.compare_exchange_weak(used, used + bytes));
  if (parent_ != nullptr) {
    if (Status taken = parent_->Take(bytes); !taken) {
      used_ -= bytes;
      return taken;
    }
  }
  size_t peak = peak_.load();
  while (used + bytes > peak && !peak_.compare_exchange_weak(peak, used + bytes)) {
  }
  return Ok();
}

void LogMemoryBudget::Give(size_t bytes) {
  used_ -= bytes;
  if (parent_ != nullptr) {
    parent_->Give(bytes);
  }
}

Result<LogRecord> ParseLogLine(std::string_view line) {
  LogRecord record;
  size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return Err(Error::Invalid("log line: missing the stream"));
  }
  record.time_text = line.substr(0, space);
  auto time = ParseRfc3339(record.time_text);
  if (!time) {
    return Err(Error::Invalid(fmt::format("log line: invalid time \"{}\"", record.time_text)));
  }
  record.time = *time;
  line.remove_prefix(space + 1);
  if (StartsWith(line, "stdout ")) {
    record.stream = LogStream::kStdout;
  } else if (StartsWith(line, "stderr ")) {
    record.stream = LogStream::kStderr;
  } else {
    return Err(Error::Invalid("log line: stream is not stdout or stderr"));
  }
  line.remove_prefix(7);
  if (line.empty() || (line[0] != 'P' && line[0] != 'F') || (line.size() > 1 && line[1] != ' ')) {
    return Err(Error::Invalid("log line: tag is not P or F"));
  }
  record.partial = line[0] == 'P';
  record.content = line.size() > 2 ? line.substr(2) : std::string_view();
  return record;
}

namespace {

// Turns raw lines into reassembled, filtered LogLines and hands them on (directly, or through
// the tail window).
class LineAssembler {
 public:
  LineAssembler(const LogReadOptions& options, const std::function<Status(const LogLine&)>& sink)
      : options_(options), sink_(sink) {}
  LineAssembler(const LineAssembler&) = delete;
  LineAssembler& operator=(const LineAssembler&) = delete;
  LineAssembler(LineAssembler&&) = delete;
  LineAssembler& operator=(LineAssembler&&) = delete;
  ~LineAssembler() { Release(window_bytes_); }

  // Status plus "stop now" (max_lines reached).
  Status Add(std::string_view raw) {
    auto record = ParseLogLine(raw);
    if (!record) {
      return Ok();  // torn or foreign line
    }
    Pending& pending = pending_[record->stream == LogStream::kStdout ? 0 : 1];
    std::string_view content = record->content;
    while (true) {
      if (!pending.active) {
        pending.active = true;
        pending.line.time = record->time;
        pending.line.time_text = std::string(record->time_text);
        pending.line.stream = record->stream;
        pending.line.content.clear();
      }
      size_t take = std::min(content.size(), kMaxLogLineContent - pending.line.content.size());
      pending.line.content.append(content.substr(0, take));
      content.remove_prefix(take);
      if (pending.line.content.size() < kMaxLogLineContent ||
          (content.empty() && !record->partial)) {
        break;
      }
      // An endless run of P records must not grow without bound: a line at the cap goes out
      // as it is and what follows starts a new one.
      pending.active = false;
      RETURN_IF_ERROR(Emit(std::move(pending.line)));
      if (content.empty()) {
        return Ok();
      }
    }
    if (record->partial) {
      return Ok();
    }
    pending.active = false;
    return Emit(std::move(pending.line));
  }

  // End of a finished log (or of following): trailing P records count as lines.
  Status FlushPartials() {
    for (Pending& pending : pending_) {
      if (pending.active) {
        pending.active = false;
        RETURN_IF_ERROR(Emit(std::move(pending.line)));
      }
    }
    return Ok();
  }

  // Truncation: what was pending is gone.
  void Reset() {
    for (Pending& pending : pending_) {
      pending.active = false;
    }
  }

  // Ends tail mode: the kept lines go out, later ones directly.
  Status FlushTail() {
    tail_done_ = true;
    while (!window_.empty()) {
      LogLine line = std::move(window_.front());
      window_.pop_front();
      Release(Bytes(line));  // the sink may charge the same budget for what it keeps
      RETURN_IF_ERROR(Deliver(line));
    }
    return Ok();
  }

  [[nodiscard]] bool done() const { return done_; }

 private:
  struct Pending {
    bool active = false;
    LogLine line;
  };

  Status Emit(LogLine line) {
    if ((options_.since && line.time < *options_.since) ||
        (options_.until && line.time >= *options_.until)) {
      return Ok();
    }
    if (options_.tail_lines >= 0 && !tail_done_) {
      if (options_.tail_lines == 0) {
        return Ok();
      }
      if (window_.size() >= static_cast<size_t>(options_.tail_lines)) {
        Release(Bytes(window_.front()));
        window_.pop_front();
      }
      // Each line may be kMaxLogLineContent long: the window is bounded by bytes too.
      if (options_.budget != nullptr) {
        RETURN_IF_ERROR(options_.budget->Take(Bytes(line)));
      }
      window_bytes_ += Bytes(line);
      window_.push_back(std::move(line));
      return Ok();
    }
    return Deliver(line);
  }

  static size_t Bytes(const LogLine& line) {
    return sizeof(LogLine) + line.content.size() + line.time_text.size();
  }

  void Release(size_t bytes) {
    window_bytes_ -= bytes;
    if (options_.budget != nullptr) {
      options_.budget->Give(bytes);
    }
  }

  Status Deliver(const LogLine& line) {
    if (done_) {
      return Ok();
    }
    RETURN_IF_ERROR(sink_(line));
    ++delivered_;
    if (options_.max_lines >= 0 && delivered_ >= options_.max_lines) {
      done_ = true;
    }
    return Ok();
  }

  const LogReadOptions& options_;
  const std::function<Status(const LogLine&)>& sink_;
  Pending pending_[2];
  std::deque<LogLine> window_;
  size_t window_bytes_ = 0;  // charged to options_.budget
  bool tail_done_ = false;
  bool done_ = false;
  int64_t delivered_ = 0;
};

// Where reading starts for a tail of options.tail_lines lines: just after the (lines+1)-th full
// record from the end, found by reading backwards in blocks, so a big log is not read whole. The
// assembler's window then keeps exactly the last `lines`.
Result<off_t> TailStart(int fd, off_t size, const LogReadOptions& options) {
  int64_t full_records = 0;
  off_t pos = size;
  std::string block(kReadBlock, '\0');
  while (pos > 0) {
    auto chunk = static_cast<size_t>(std::min<off_t>(pos, static_cast<off_t>(kReadBlock)));
    pos -= static_cast<off_t>(chunk);
    ssize_t n = ::pread(fd, block.data(), chunk, pos);
    if (n < 0) {
      return Err(Error::FromErrno("pread", "log"));
    }
    for (auto i = static_cast<size_t>(n); i > 0; --i) {
      if (block[i - 1] != '\n') {
        continue;
      }
      // The record ending at this newline. One that starts in an earlier block is not counted:
      // starting earlier only costs reading more.
      size_t j = i - 1;
      while (j > 0 && block[j - 1] != '\n') {
        --j;
      }
      if (j == 0 && pos > 0) {
        continue;
      }
      auto parsed = ParseLogLine(std::string_view(block.data() + j, i - 1 - j));
      if (!parsed || parsed->partial || (options.until && parsed->time >= *options.until)) {
        continue;  // lines at or after `until` are not part of the tail
      }
      if (++full_records > options.tail_lines) {
        return pos + static_cast<off_t>(i);  // just after this record
      }
    }
  }
  return off_t{0};
}

// Reads [offset, EOF) into the assembler; `carry` holds an unfinished last line. Returns the new
// offset.
Result<off_t> ReadForward(int fd, off_t offset, std::string* carry, LineAssembler* assembler) {
  std::string block(kReadBlock, '\0');
  while (!assembler->done()) {
    ssize_t n = ::pread(fd, block.data(), block.size(), offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err(Error::FromErrno("pread", "log"));
    }
    if (n == 0) {
      break;
    }
    offset += n;
    std::string_view data(block.data(), static_cast<size_t>(n));
    while (!data.empty() && !assembler->done()) {
      size_t newline = data.find('\n');
      if (newline == std::string_view::npos) {
        carry->append(data);
        if (carry->size() > kMaxLineBytes) {
          carry->assign(1, '\0');  // too long: a marker that makes the line unparseable
        }
        break;
      }
      if (carry->empty()) {
        RETURN_IF_ERROR(assembler->Add(data.substr(0, newline)));
      } else {
        carry->append(data.substr(0, newline));
        RETURN_IF_ERROR(assembler->Add(*carry));
        carry->clear();
      }
      data.remove_prefix(newline + 1);
    }
  }
  return offset;
}

bool KeepFollowing(const LogReadOptions& options) {
  return !options.keep_following || options.keep_following();
}

Result<os::UniqueFd> OpenLog(const std::string& path, const LogReadOptions& options) {
  while (true) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      return os::UniqueFd(fd);
    }
    if (errno != ENOENT) {
      return Err(Error::FromErrno("open", path));
    }
    if (!options.follow) {
      return Err(Error::NotFound(fmt::format("log {} does not exist", path)));
    }
    if (!KeepFollowing(options)) {
      return os::UniqueFd();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

Status ReadLog(const std::string& path, const LogReadOptions& options,
               const std::function<Status(const LogLine&)>& sink) {
  ASSIGN_OR_RETURN(os::UniqueFd fd, OpenLog(path, options));
  if (!fd) {
    return Ok();
  }
  LineAssembler assembler(options, sink);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Err(Error::FromErrno("fstat", path));
  }
  off_t offset = 0;
  if (options.tail_lines == 0 && !options.follow) {
    return Ok();
  }
  if (options.tail_lines >= 0) {
    ASSIGN_OR_RETURN(offset, TailStart(fd.get(), st.st_size, options));
  }
  std::string carry;
  ASSIGN_OR_RETURN(offset, ReadForward(fd.get(), offset, &carry, &assembler));
  if (!options.follow || assembler.done()) {
    if (!carry.empty()) {
      RETURN_IF_ERROR(assembler.Add(carry));  // a torn last line: parsed if it is whole
    }
    RETURN_IF_ERROR(assembler.FlushPartials());
    return assembler.FlushTail();
  }
  RETURN_IF_ERROR(assembler.FlushTail());
  while (!assembler.done() && KeepFollowing(options)) {
    if (::fstat(fd.get(), &st) != 0) {
      return Err(Error::FromErrno("fstat", path));
    }
    if (st.st_size < offset) {  // truncated: start again from the top
      offset = 0;
      carry.clear();
      assembler.Reset();
    }
    if (st.st_size == offset) {
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    ASSIGN_OR_RETURN(offset, ReadForward(fd.get(), offset, &carry, &assembler));
  }
  return assembler.FlushPartials();
}

}  // namespace comet::pod
