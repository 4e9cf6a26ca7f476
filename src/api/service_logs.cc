// GetLogs' reading side: merge, tail, follow and batching over pod/cri_log.h's ReadLog.
#include "api/service_logs.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
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

Error TooLargeToMerge(size_t sources) {
  return {ENOMEM, fmt::format("the logs of {} apps are too large to merge (over {} MiB): set "
                              "a smaller lines or app_name",
                              sources, kMaxMergeBytes >> 20)};
}

pod::LogReadOptions ReadOptions(const LogQuery& query) {
  pod::LogReadOptions options;
  options.since = query.since;
  options.until = query.until;
  options.tail_lines = query.tail > 0 ? query.tail : -1;
  options.follow = query.follow;
  return options;
}

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

// Without follow: one log is streamed as it is read; several are read whole, merged, tailed.
Status ReadToEnd(const LogQuery& query, const LogStreamHooks& hooks) {
  const pod::LogReadOptions options = ReadOptions(query);
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
  std::vector<TimedLine> lines;
  size_t bytes = 0;
  for (const LogSource& source : query.sources) {
    Status read = pod::ReadLog(source.path, options, [&](const pod::LogLine& line) -> Status {
      if (line.content.empty()) {
        return Ok();
      }
      bytes += line.content.size();
      if (bytes > kMaxMergeBytes) {  // with or without a tail: lines may be long
        return Err(TooLargeToMerge(query.sources.size()));
      }
      lines.push_back({line.time, line.content});
      return Ok();
    });
    if (!read && read.error().code() == ENOMEM) {
      return read;
    }
    if (!IgnorableReadError(read)) {
      return Err(std::move(read).error().AddContext(source.app));
    }
  }
  MergeAndTail(lines, query.tail);
  for (TimedLine& line : lines) {
    if (!batcher.Add(std::move(line.content))) {
      return Ok();
    }
  }
  (void)batcher.Flush();
  return Ok();
}

// With follow: a reader thread per log. What each log holds when the request comes (its
// backlog) is merged across logs and tailed before anything is sent; lines written later are
// sent as they arrive.
class Follower {
 public:
  Follower(const LogQuery& query, const LogStreamHooks& hooks)
      : query_(query),
        hooks_(hooks),
        caught_up_(query.sources.size(), false),
        results_(query.sources.size(), Ok()) {
    // One log needs no merge: its backlog is tailed by ReadLog itself.
    backlog_sent_ = query.sources.size() == 1;
  }

  Status Run() {
    std::vector<std::thread> readers;
    readers.reserve(query_.sources.size());
    for (size_t i = 0; i < query_.sources.size(); ++i) {
      readers.emplace_back([this, i]() { Read(i); });
    }
    Send();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (std::thread& reader : readers) {
      reader.join();
    }
    for (size_t i = 0; i < results_.size(); ++i) {
      if (!results_[i] && results_[i].error().code() == ENOMEM) {
        return results_[i];
      }
      if (!IgnorableReadError(results_[i])) {
        return Err(Error(results_[i].error()).AddContext(query_.sources[i].app));
      }
    }
    return Ok();
  }

 private:
  void Read(size_t index) {
    pod::LogReadOptions options = ReadOptions(query_);
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
    Status result = pod::ReadLog(
        query_.sources[index].path, options,
        [this, index](const pod::LogLine& line) -> Status { return Take(index, line); });
    std::lock_guard<std::mutex> lock(mutex_);
    results_[index] = std::move(result);
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
      backlog_bytes_ += line.content.size();
      if (backlog_bytes_ > kMaxMergeBytes) {
        return Err(TooLargeToMerge(query_.sources.size()));
      }
      backlog_.push_back({line.time, line.content});
      return Ok();
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
      MergeAndTail(backlog_, query_.tail);
      for (TimedLine& line : backlog_) {
        ready.push_back(std::move(line.content));
      }
      backlog_.clear();
      backlog_sent_ = true;
    }
    while (!pending_.empty()) {
      ready.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    pending_bytes_ = 0;
    return ready;
  }

  void Send() {
    Batcher batcher(hooks_);
    while (true) {
      std::vector<std::string> ready;
      bool finished = false;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait_for(lock, std::chrono::milliseconds(100), [this]() {
          return finished_ == caught_up_.size() || !pending_.empty() ||
                 (!backlog_sent_ && caught_up_count_ == caught_up_.size());
        });
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
    }
  }

  const LogQuery& query_;
  const LogStreamHooks& hooks_;
  std::mutex mutex_;
  std::condition_variable changed_;  // to the sender: lines, a log caught up, a reader ended
  std::condition_variable space_;    // to the readers: the pending lines were taken
  std::vector<bool> caught_up_;      // reached the end of what the log held at first
  size_t caught_up_count_ = 0;
  std::vector<TimedLine> backlog_;
  size_t backlog_bytes_ = 0;
  bool backlog_sent_ = false;
  std::deque<std::string> pending_;
  size_t pending_bytes_ = 0;
  size_t finished_ = 0;
  bool stop_ = false;
  std::vector<Status> results_;
};

}  // namespace

Status StreamLogs(const LogQuery& query, const LogStreamHooks& hooks) {
  if (query.sources.empty()) {
    return Ok();
  }
  if (!query.follow) {
    return ReadToEnd(query, hooks);
  }
  Follower follower(query, hooks);
  return follower.Run();
}

}  // namespace comet::api
