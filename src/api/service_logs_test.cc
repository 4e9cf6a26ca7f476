#include "api/service_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

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

  std::unique_ptr<os::TempDir> dir_;
  LogSource a_, b_;
};

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
