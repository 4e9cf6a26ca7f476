// GetLogs' reading side: merge, tail, follow and batching over pod/cri_log.h's ReadLog.
#include "api/service_logs.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "pod/cri_log.h"

namespace comet::api {
namespace {

using Clock = std::chrono::system_clock;

// Lines written before `until` can still reach the log this long after it (the supervisor
// stamps a line when it reads it from the app's pipe, then writes it).
constexpr auto kUntilGrace = std::chrono::seconds(1);
// While following, readers stop reading when this many bytes wait to be sent (a slow client).
constexpr size_t kMaxPendingBytes = size_t{4} << 20;

struct TimedLine {
  Clock::time_point time;
  std::string content;
};

Error ClientGone() {
  return {ECANCELED, "the client went away"};
}

// What one request may hold, charged to the process-wide budget too.
std::string TooLarge(const LogQuery& query) {
  if (query.sources.size() == 1) {
    return fmt::format(
        "the last {} lines of the log are too large (over {} MiB): set a smaller "
        "lines",
        query.tail, kMaxMergeBytes >> 20);
  }
  return fmt::format(
      "the logs of {} apps are too large to merge (over {} MiB): set a smaller "
      "lines or app_name",
      query.sources.size(), kMaxMergeBytes >> 20);
}

bool OutOfMemory(const Status& status) {
  return !status && status.error().code() == ENOMEM;
}

pod::LogReadOptions ReadOptions(const LogQuery& query, pod::LogMemoryBudget* budget) {
  pod::LogReadOptions options;
  options.since = query.since;
  options.until = query.until;
  options.tail_lines = query.tail > 0 ? query.tail : -1;
  options.follow = query.follow;
  options.budget = budget;
  return options;
}

// Lines held for a merge, charged to a budget; what is still held at the end is given back.
class HeldLines {
 public:
  explicit HeldLines(pod::LogMemoryBudget& budget) : budget_(budget) {}
  HeldLines(const HeldLines&) = delete;
  HeldLines& operator=(const HeldLines&) = delete;
  HeldLines(HeldLines&&) = delete;
  HeldLines& operator=(HeldLines&&) = delete;
  ~HeldLines() { Release(); }

  [[nodiscard]] Status Add(const pod::LogLine& line) {
    const size_t bytes = sizeof(TimedLine) + line.content.size();
    RETURN_IF_ERROR(budget_.Take(bytes));
    bytes_ += bytes;
    lines_.push_back({line.time, line.content});
    return Ok();
  }
  std::vector<TimedLine>& lines() { return lines_; }
  // Once the lines were sent (or dropped).
  void Release() {
    lines_.clear();
    lines_.shrink_to_fit();
    budget_.Give(bytes_);
    bytes_ = 0;
  }

 private:
  pod::LogMemoryBudget& budget_;
  std::vector<TimedLine> lines_;
  size_t bytes_ = 0;
};

// Collects lines into batches of at most kMaxBatchLines / kMaxBatchBytes.
class Batcher {
 public:
  explicit Batcher(const LogStreamHooks& hooks) : hooks_(hooks) {}
  // False when the client is gone.
  bool Add(std::string line) {
    bytes_ += line.size();
    batch_.push_back(std::move(line));
    if (batch_.size() >= kMaxBatchLines || bytes_ >= kMaxBatchBytes) {
      return Flush();
    }
    return true;
  }
  bool Flush() {
    if (batch_.empty()) {
      return true;
    }
    const bool sent = hooks_.send(batch_);
    batch_.clear();
    bytes_ = 0;
    return sent;
  }

 private:
  const LogStreamHooks& hooks_;
  std::vector<std::string> batch_;
  size_t bytes_ = 0;
};

bool IgnorableReadError(const Status& status) {
  return status || status.error().code() == ENOENT || status.error().code() == ECANCELED;
}

// Sorted by time (stable: one app's lines keep their order), then the last `tail`.
void MergeAndTail(std::vector<TimedLine>& lines, int64_t tail) {
  std::stable_sort(lines.begin(), lines.end(),
                   [](const TimedLine& a, const TimedLine& b) { return a.time < b.time; });
  if (tail > 0 && lines.size() > static_cast<size_t>(tail)) {
    lines.erase(lines.begin(), lines.end() - tail);
  }
}

// Without follow: one log is streamed as it is read (through its tail window); several are read
// whole, merged, tailed. What is held is charged to `budget`.
Status ReadToEnd(const LogQuery& query, const LogStreamHooks& hooks, pod::LogMemoryBudget& budget) {
  const pod::LogReadOptions options = ReadOptions(query, &budget);
  Batcher batcher(hooks);
  if (query.sources.size() == 1) {
    const LogSource& source = query.sources.front();
    Status read = pod::ReadLog(source.path, options, [&](const pod::LogLine& line) -> Status {
      if (!line.content.empty() && !batcher.Add(line.content)) {
        return Err(ClientGone());
      }
      return Ok();
    });
    if (!IgnorableReadError(read)) {
      return Err(std::move(read).error().AddContext(source.app));
    }
    (void)batcher.Flush();
    return Ok();
  }
  HeldLines held(budget);  // with or without a tail: lines may be long
  for (const LogSource& source : query.sources) {
    Status read = pod::ReadLog(source.path, options, [&](const pod::LogLine& line) -> Status {
      return line.content.empty() ? Ok() : held.Add(line);
    });
    if (OutOfMemory(read)) {
      return read;
    }
    if (!IgnorableReadError(read)) {
      return Err(std::move(read).error().AddContext(source.app));
    }
  }
  MergeAndTail(held.lines(), query.tail);
  for (TimedLine& line : held.lines()) {
    if (!batcher.Add(std::move(line.content))) {
      return Ok();
    }
  }
  (void)batcher.Flush();
  return Ok();
}

// With follow: a reader thread per log. What each log holds when the request comes (its
// backlog) is merged across logs and tailed before anything is sent; lines written later are
// sent as they arrive. A reader that fails (a backlog too large to merge, a read error, an
// exception) stops the others and nothing more is sent: the client gets the error, not a merge
// that silently lacks an app.
class Follower {
 public:
  Follower(const LogQuery& query, const LogStreamHooks& hooks, pod::LogMemoryBudget& budget)
      : query_(query),
        hooks_(hooks),
        budget_(budget),
        caught_up_(query.sources.size(), false),
        backlog_(budget) {
    // One log needs no merge: its backlog is tailed by ReadLog itself.
    backlog_sent_ = query.sources.size() == 1;
  }

  Status Run() {
    std::vector<std::thread> readers;
    Status started = Ok();
    try {
      readers.reserve(query_.sources.size());
      for (size_t i = 0; i < query_.sources.size(); ++i) {
        readers.emplace_back([this, i]() { Read(i); });
      }
    } catch (const std::exception& e) {
      // std::system_error when the process may not have more threads (TasksMax, RLIMIT_NPROC):
      // the readers started must be stopped and joined, never destroyed joinable.
      started = Err(Error(ENOMEM, fmt::format("starting a log reader: {}", e.what())));
    }
    if (started) {
      Send();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (std::thread& reader : readers) {
      reader.join();
    }
    RETURN_IF_ERROR(started);
    if (fatal_) {
      return Err(*fatal_);
    }
    return Ok();
  }

 private:
  void Read(size_t index) {
    Status result = Ok();
    // Nothing may escape a reader thread (std::terminate would take the service down): the
    // hooks (pod_running reads the pod) and the reading itself may throw.
    try {
      pod::LogReadOptions options = ReadOptions(query_, &budget_);
      options.keep_following = [this, index, last_round = false]() mutable {
        MarkCaughtUp(index);
        if (Stopped() || last_round) {
          return false;
        }
        if (query_.until && Clock::now() >= *query_.until + kUntilGrace) {
          return false;  // nothing written from now on can be before `until`
        }
        last_round = !hooks_.pod_running();  // one more round reads what came last
        return true;
      };
      result = pod::ReadLog(
          query_.sources[index].path, options,
          [this, index](const pod::LogLine& line) -> Status { return Take(index, line); });
    } catch (const std::bad_alloc&) {
      result = Err(Error(ENOMEM, "reading the log: out of memory"));
    } catch (const std::exception& e) {
      result = Err(Error(EIO, fmt::format("reading the log: internal error: {}", e.what())));
    } catch (...) {
      result = Err(Error(EIO, "reading the log: internal error"));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!IgnorableReadError(result) && !fatal_) {
      // A request too large names no app; any other error does.
      fatal_ = OutOfMemory(result) ? result.error()
                                   : Error(result.error()).AddContext(query_.sources[index].app);
      stop_ = true;
      space_.notify_all();
    }
    if (!caught_up_[index]) {
      caught_up_[index] = true;
      ++caught_up_count_;
    }
    ++finished_;
    changed_.notify_all();
  }

  void MarkCaughtUp(size_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!caught_up_[index]) {
      caught_up_[index] = true;
      ++caught_up_count_;
      changed_.notify_all();
    }
  }

  bool Stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_;
  }

  Status Take(size_t index, const pod::LogLine& line) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stop_) {
      return Err(ClientGone());
    }
    if (line.content.empty()) {
      return Ok();
    }
    if (!backlog_sent_ && !caught_up_[index]) {
      return backlog_.Add(line);  // ENOMEM past the request's (or the service's) budget
    }
    space_.wait(lock, [this]() { return stop_ || pending_bytes_ < kMaxPendingBytes; });
    if (stop_) {
      return Err(ClientGone());
    }
    pending_bytes_ += line.content.size();
    pending_.push_back(line.content);
    changed_.notify_all();
    return Ok();
  }

  // The lines to send now, in order; empty when there are none yet.
  std::vector<std::string> TakeReady() {
    std::vector<std::string> ready;
    if (!backlog_sent_) {
      if (caught_up_count_ < caught_up_.size()) {
        return ready;
      }
      MergeAndTail(backlog_.lines(), query_.tail);
      for (TimedLine& line : backlog_.lines()) {
        ready.push_back(std::move(line.content));
      }
      backlog_sent_ = true;
    }
    while (!pending_.empty()) {
      ready.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    pending_bytes_ = 0;
    return ready;
  }

  // Whether Send has something to do: a reader ended or failed, the backlog is complete, or
  // lines wait to be sent after it. Lines of a caught-up app that wait for another app's
  // backlog are not enough: waking for them would spin until that backlog is complete.
  bool SendReady() const {
    if (stop_ || finished_ == caught_up_.size()) {
      return true;
    }
    return backlog_sent_ ? !pending_.empty() : caught_up_count_ == caught_up_.size();
  }

  void Send() {
    Batcher batcher(hooks_);
    while (true) {
      std::vector<std::string> ready;
      bool finished = false;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait_for(lock, std::chrono::milliseconds(100), [this]() { return SendReady(); });
        if (fatal_) {
          return;  // the backlog may lack an app's lines: send none of it
        }
        ready = TakeReady();
        finished = finished_ == caught_up_.size() && pending_.empty();
      }
      space_.notify_all();
      if (hooks_.cancelled()) {
        return;
      }
      for (std::string& line : ready) {
        if (!batcher.Add(std::move(line))) {
          return;
        }
      }
      if (!batcher.Flush() || finished) {
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (backlog_sent_) {
        backlog_.Release();  // sent: its bytes go back to the budget
      }
    }
  }

  const LogQuery& query_;
  const LogStreamHooks& hooks_;
  pod::LogMemoryBudget& budget_;
  std::mutex mutex_;
  std::condition_variable changed_;  // to the sender: lines, a log caught up, a reader ended
  std::condition_variable space_;    // to the readers: the pending lines were taken, or stop
  std::vector<bool> caught_up_;      // reached the end of what the log held at first
  size_t caught_up_count_ = 0;
  HeldLines backlog_;
  bool backlog_sent_ = false;
  std::deque<std::string> pending_;
  size_t pending_bytes_ = 0;
  size_t finished_ = 0;
  bool stop_ = false;
  std::optional<Error> fatal_;  // the first reader's error that ends the follow
};

}  // namespace

pod::LogMemoryBudget& LogsMemoryBudget() {
  static pod::LogMemoryBudget budget(
      kMaxLogsMemory, fmt::format("GetLogs calls at once would hold over {} MiB of log lines: "
                                  "try again later",
                                  kMaxLogsMemory >> 20));
  return budget;
}

Status StreamLogs(const LogQuery& query, const LogStreamHooks& hooks) {
  if (query.sources.empty()) {
    return Ok();
  }
  pod::LogMemoryBudget budget(kMaxMergeBytes, TooLarge(query), &LogsMemoryBudget());
  if (!query.follow) {
    return ReadToEnd(query, hooks, budget);
  }
  if (query.sources.size() > kMaxFollowSources) {
    return Err(Error(ENOMEM, fmt::format("following {} apps at once (more than {}): set app_name",
                                         query.sources.size(), kMaxFollowSources)));
  }
  Follower follower(query, hooks, budget);
  return follower.Run();
}

}  // namespace comet::api
