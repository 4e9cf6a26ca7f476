#include "api/service_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/scope_exit.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/cri_log.h"

namespace comet::api {
namespace {

using Clock = std::chrono::system_clock;
using Strings = std::vector<std::string>;

// "2026-01-01T00:00:<second>.000000000Z stdout F <content>"
std::string Record(int second, const std::string& content) {
  return fmt::format("2026-01-01T00:00:{:02}.000000000Z stdout F {}\n", second, content);
}

Clock::time_point At(int second) {
  return Clock::time_point(std::chrono::seconds(1767225600 + second));  // 2026-01-01T00:00:00Z
}

class ServiceLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-api-logs-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    a_ = {"a", dir_->path() + "/a.log"};
    b_ = {"b", dir_->path() + "/b.log"};
    ASSERT_TRUE(os::WriteFile(a_.path, Record(1, "a1") + Record(3, "") + Record(4, "a4")));
    ASSERT_TRUE(os::WriteFile(b_.path, Record(2, "b2") + Record(5, "b5")));
  }

  // Every line StreamLogs sends, and the number of batches.
  static Strings Stream(const LogQuery& query, int* batches = nullptr) {
    Strings lines;
    int count = 0;
    LogStreamHooks hooks;
    hooks.pod_running = [] { return false; };
    hooks.cancelled = [] { return false; };
    hooks.send = [&](std::vector<std::string>& batch) {
      EXPECT_FALSE(batch.empty());
      ++count;
      lines.insert(lines.end(), batch.begin(), batch.end());
      return true;
    };
    Status status = StreamLogs(query, hooks);
    EXPECT_TRUE(status) << status.error().ToString();
    if (batches != nullptr) {
      *batches = count;
    }
    return lines;
  }

  // StreamLogs' status; the lines sent go to `lines`.
  static Status Attempt(const LogQuery& query, Strings* lines) {
    LogStreamHooks hooks;
    hooks.pod_running = [] { return false; };
    hooks.cancelled = [] { return false; };
    hooks.send = [&](std::vector<std::string>& batch) {
      lines->insert(lines->end(), batch.begin(), batch.end());
      return true;
    };
    return StreamLogs(query, hooks);
  }

  // `count` lines of `bytes` each, written as the supervisor does (16 KiB P records).
  static void WriteLongLines(const std::string& path, int count, size_t bytes) {
    auto writer = pod::CriLogWriter::Open(path);
    ASSERT_TRUE(writer);
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(writer->Write(pod::LogStream::kStdout, std::string(bytes, 'x') + "\n"));
    }
  }

  // Leaves only `left` bytes of the process-wide budget until the returned guard goes.
  static auto LeaveInBudget(size_t left) {
    pod::LogMemoryBudget& budget = LogsMemoryBudget();
    const size_t taken = budget.limit() - budget.used() - left;
    EXPECT_TRUE(budget.Take(taken));
    return ScopeExit([global = &budget, taken] { global->Give(taken); });
  }

  std::unique_ptr<os::TempDir> dir_;
  LogSource a_, b_;
};

// Issue 5: `lines` lines of up to 1 MiB each were held whole before the first was sent. The
// tail window is charged to the service's budget: a request past it is refused, nothing sent.
TEST_F(ServiceLogsTest, TailOfLongLinesIsBoundedByTheBudget) {
  ASSERT_NO_FATAL_FAILURE(WriteLongLines(a_.path, 16, size_t{512} << 10));  // 8 MiB
  const size_t before = LogsMemoryBudget().used();
  {
    auto guard = LeaveInBudget(size_t{2} << 20);
    Strings lines;
    Status one = Attempt({.sources = {a_}, .tail = 10}, &lines);
    ASSERT_FALSE(one);
    EXPECT_EQ(one.error().code(), ENOMEM);
    EXPECT_TRUE(lines.empty());
    Status merged = Attempt({.sources = {a_, b_}, .tail = 10}, &lines);
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code(), ENOMEM);
    EXPECT_TRUE(lines.empty());
  }
  EXPECT_EQ(LogsMemoryBudget().used(), before);  // everything was given back
  Strings lines;
  ASSERT_TRUE(Attempt({.sources = {a_}, .tail = 10}, &lines));
  EXPECT_EQ(lines.size(), 10U);
  EXPECT_EQ(LogsMemoryBudget().used(), before);
}

// Issue 5: one app's error (here: its log cannot be read) ended only that app's reader; the
// others' backlog was sent as if it were the whole pod's, the error coming at the very end.
TEST_F(ServiceLogsTest, FollowStopsAtTheFirstReaderErrorAndSendsNothing) {
  const LogSource broken{"broken", dir_->path() + "/broken.log"};
  ASSERT_EQ(::mkdir(broken.path.c_str(), 0700), 0);  // opens, but read(2) fails: EISDIR
  Strings lines;
  Status status = Attempt({.sources = {a_, broken}, .follow = true}, &lines);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), EISDIR);
  EXPECT_NE(status.error().ToString().find("broken"), std::string::npos);
  EXPECT_TRUE(lines.empty()) << lines.size();
}

// Issue 5: while one app's backlog was still being read, another app's new lines woke the
// sender again and again: 100% CPU until the backlog was complete.
TEST_F(ServiceLogsTest, FollowDoesNotSpinWhileABacklogIsIncomplete) {
  const LogSource slow{"slow", dir_->path() + "/slow.log"};
  ASSERT_EQ(::mkfifo(slow.path.c_str(), 0600), 0);  // its reader waits in open(2)
  std::atomic<bool> cancelled{false};
  std::atomic<int> wakeups{0};
  LogStreamHooks hooks;
  hooks.pod_running = [] { return true; };
  hooks.cancelled = [&] {
    ++wakeups;
    return cancelled.load();
  };
  hooks.send = [](std::vector<std::string>& /*batch*/) { return true; };
  std::thread follow([&] { (void)StreamLogs({.sources = {a_, slow}, .follow = true}, hooks); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int fd = ::open(a_.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(os::WriteAll(fd, Record(6, "a6")));  // a caught-up app writes
  ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const int seen = wakeups.load();
  cancelled = true;
  const int writer = ::open(slow.path.c_str(), O_WRONLY | O_CLOEXEC);  // lets its reader go on
  ASSERT_GE(writer, 0);
  ::close(writer);
  follow.join();
  EXPECT_LT(seen, 50);  // about one per 100 ms, not thousands
}

// Issue 5: an exception in a reader thread (here from the pod_running hook, which reads the
// pod) called std::terminate and took the whole service down.
TEST_F(ServiceLogsTest, AReaderExceptionIsAnErrorNotACrash) {
  LogStreamHooks hooks;
  hooks.pod_running = []() -> bool { throw std::runtime_error("inspect failed"); };
  hooks.cancelled = [] { return false; };
  hooks.send = [](std::vector<std::string>& /*batch*/) { return true; };
  Status status = StreamLogs({.sources = {a_, b_}, .follow = true}, hooks);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().ToString().find("inspect failed"), std::string::npos);
}

TEST_F(ServiceLogsTest, AFollowOfTooManyAppsIsRefused) {
  LogQuery query{.follow = true};
  for (size_t i = 0; i <= kMaxFollowSources; ++i) {
    query.sources.push_back(a_);
  }
  Strings lines;
  Status status = Attempt(query, &lines);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), ENOMEM);
  query.sources.pop_back();
  EXPECT_TRUE(Attempt(query, &lines));
}

TEST_F(ServiceLogsTest, OneAppWithoutEmptyLines) {
  EXPECT_EQ(Stream({.sources = {a_}}), (Strings{"a1", "a4"}));
}

TEST_F(ServiceLogsTest, SeveralAppsMergedByTimeThenTailed) {
  EXPECT_EQ(Stream({.sources = {a_, b_}}), (Strings{"a1", "b2", "a4", "b5"}));
  EXPECT_EQ(Stream({.sources = {a_, b_}, .tail = 3}), (Strings{"b2", "a4", "b5"}));
}

TEST_F(ServiceLogsTest, SinceIsInclusiveUntilExclusive) {
  EXPECT_EQ(Stream({.sources = {a_, b_}, .since = At(2), .until = At(5)}), (Strings{"b2", "a4"}));
  EXPECT_EQ(Stream({.sources = {a_, b_}, .until = At(5), .tail = 1}), Strings{"a4"});
}

TEST_F(ServiceLogsTest, MissingLogIsNoLines) {
  EXPECT_EQ(Stream({.sources = {{"c", dir_->path() + "/c.log"}}}), Strings{});
  EXPECT_EQ(Stream({.sources = {a_, {"c", dir_->path() + "/c.log"}}}), (Strings{"a1", "a4"}));
}

TEST_F(ServiceLogsTest, BatchesAreBounded) {
  std::string many;
  for (int i = 0; i < 1500; ++i) {
    many += Record(1, fmt::format("line {}", i));
  }
  ASSERT_TRUE(os::WriteFile(a_.path, many));
  int batches = 0;
  EXPECT_EQ(Stream({.sources = {a_}}, &batches).size(), 1500U);
  EXPECT_EQ(batches, 3);  // 512 + 512 + 476
}

TEST_F(ServiceLogsTest, FollowMergesTheBacklogThenSendsNewLinesUntilThePodStops) {
  std::atomic<bool> running{true};
  std::mutex mutex;
  Strings lines;
  LogStreamHooks hooks;
  hooks.pod_running = [&] { return running.load(); };
  hooks.cancelled = [] { return false; };
  hooks.send = [&](std::vector<std::string>& batch) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.insert(lines.end(), batch.begin(), batch.end());
    return true;
  };
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const int fd = ::open(a_.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(os::WriteAll(fd, Record(6, "a6")));
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    running = false;
  });
  Status status = StreamLogs({.sources = {a_, b_}, .tail = 2, .follow = true}, hooks);
  writer.join();
  EXPECT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(lines, (Strings{"a4", "b5", "a6"}));
}

TEST_F(ServiceLogsTest, FollowEndsWhenCancelled) {
  std::atomic<bool> cancelled{false};
  LogStreamHooks hooks;
  hooks.pod_running = [] { return true; };
  hooks.cancelled = [&] { return cancelled.load(); };
  hooks.send = [](std::vector<std::string>& /*batch*/) { return true; };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancelled = true;
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(StreamLogs({.sources = {a_, b_}, .follow = true}, hooks));
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace comet::api
