#include "pod/cri_log.h"

#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::pod {
namespace {

using std::chrono::system_clock;

class CriLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-crilog-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    path_ = dir_->path() + "/app.log";
  }

  std::vector<LogLine> ReadAll(const LogReadOptions& options = {}) {
    std::vector<LogLine> lines;
    auto status = ReadLog(path_, options, [&](const LogLine& line) -> Status {
      lines.push_back(line);
      return Ok();
    });
    EXPECT_TRUE(status) << status.error().ToString();
    return lines;
  }

  static std::vector<std::string> Contents(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    out.reserve(lines.size());
    for (const LogLine& line : lines) {
      out.push_back(line.content);
    }
    return out;
  }

  std::unique_ptr<os::TempDir> dir_;
  std::string path_;
};

TEST_F(CriLogTest, WritesCriRecords) {
  auto writer = CriLogWriter::Open(path_);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "one\r\ntwo\nprompt$ "));
  ASSERT_TRUE(writer->Write(LogStream::kStderr, "oops\n"));
  auto text = os::ReadFile(path_);
  ASSERT_TRUE(text);
  std::vector<std::string> records = Split(*text, '\n');
  ASSERT_EQ(records.size(), 5u);  // four records and the empty rest after the last newline
  auto first = ParseLogLine(records[0]);
  ASSERT_TRUE(first) << records[0];
  EXPECT_EQ(first->stream, LogStream::kStdout);
  EXPECT_FALSE(first->partial);
  EXPECT_EQ(first->content, "one");
  EXPECT_LE(system_clock::now() - first->time, std::chrono::seconds(5));
  auto third = ParseLogLine(records[2]);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->partial);
  EXPECT_EQ(third->content, "prompt$ ");
  auto fourth = ParseLogLine(records[3]);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->stream, LogStream::kStderr);
  EXPECT_EQ(fourth->content, "oops");
}

TEST_F(CriLogTest, ParseLogLineRejectsJunk) {
  EXPECT_TRUE(ParseLogLine("2024-01-02T03:04:05.123456789Z stdout F hi"));
  EXPECT_TRUE(ParseLogLine("2024-01-02T03:04:05Z stderr F"));  // empty content
  EXPECT_FALSE(ParseLogLine(""));
  EXPECT_FALSE(ParseLogLine("garbage stdout F hi"));
  EXPECT_FALSE(ParseLogLine("2024-01-02T03:04:05Z stdin F hi"));
  EXPECT_FALSE(ParseLogLine("2024-01-02T03:04:05Z stdout X hi"));
  EXPECT_FALSE(ParseLogLine("2024-01-02T03:04:05Z stdout Fhi"));
}

TEST_F(CriLogTest, ReassemblesPartialAndLongLines) {
  auto writer = CriLogWriter::Open(path_);
  ASSERT_TRUE(writer);
  std::string long_line(kMaxLogRecordContent * 2 + 10, 'x');
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "hel"));
  ASSERT_TRUE(writer->Write(LogStream::kStderr, "err\n"));
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "lo\n" + long_line + "\ntrailing"));
  auto lines = ReadAll();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].content, "err");
  EXPECT_EQ(lines[0].stream, LogStream::kStderr);
  EXPECT_EQ(lines[1].content, "hello");
  EXPECT_EQ(lines[2].content, long_line);
  EXPECT_EQ(lines[3].content, "trailing");  // a trailing P record at the end counts
}

TEST_F(CriLogTest, CapsARejoinedLine) {
  auto writer = CriLogWriter::Open(path_);
  ASSERT_TRUE(writer);
  // An app that never writes a newline: 1 MiB + 10 bytes of P records, then the end of line.
  std::string chunk(kMaxLogRecordContent, 'y');
  for (size_t i = 0; i < kMaxLogLineContent / kMaxLogRecordContent; ++i) {
    ASSERT_TRUE(writer->Write(LogStream::kStdout, chunk));
  }
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "0123456789\nnext\n"));
  auto lines = ReadAll();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].content, std::string(kMaxLogLineContent, 'y'));
  EXPECT_EQ(lines[1].content, "0123456789");
  EXPECT_EQ(lines[2].content, "next");
}

TEST_F(CriLogTest, SkipsMalformedAndTornLines) {
  ASSERT_TRUE(os::WriteFile(path_,
                            "2024-01-02T03:04:05Z stdout F a\n"
                            "not a record\n"
                            "2024-01-02T03:04:06Z stdout F b\n"
                            "2024-01-02T03:04:0"));
  EXPECT_EQ(Contents(ReadAll()), (std::vector<std::string>{"a", "b"}));
}

TEST_F(CriLogTest, SinceUntilTailMax) {
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "2024-01-02T03:04:0" + std::to_string(i) + "Z stdout F line" + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(os::WriteFile(path_, text));
  LogReadOptions since;
  since.since = *ParseRfc3339("2024-01-02T03:04:07Z");
  EXPECT_EQ(Contents(ReadAll(since)), (std::vector<std::string>{"line7", "line8", "line9"}));
  LogReadOptions until;
  until.until = *ParseRfc3339("2024-01-02T03:04:02Z");
  EXPECT_EQ(Contents(ReadAll(until)), (std::vector<std::string>{"line0", "line1"}));
  LogReadOptions tail;
  tail.tail_lines = 2;
  EXPECT_EQ(Contents(ReadAll(tail)), (std::vector<std::string>{"line8", "line9"}));
  tail.until = *ParseRfc3339("2024-01-02T03:04:05Z");
  EXPECT_EQ(Contents(ReadAll(tail)), (std::vector<std::string>{"line3", "line4"}));
  LogReadOptions zero;
  zero.tail_lines = 0;
  EXPECT_TRUE(ReadAll(zero).empty());
  LogReadOptions many;
  many.tail_lines = 100;
  EXPECT_EQ(ReadAll(many).size(), 10u);
  LogReadOptions max;
  max.max_lines = 3;
  EXPECT_EQ(Contents(ReadAll(max)), (std::vector<std::string>{"line0", "line1", "line2"}));
}

TEST_F(CriLogTest, TailOfABigLogWithPartials) {
  auto writer = CriLogWriter::Open(path_);
  ASSERT_TRUE(writer);
  std::string chunk;
  for (int i = 0; i < 20000; ++i) {
    chunk += "line " + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(writer->Write(LogStream::kStdout, chunk));
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "split "));
  ASSERT_TRUE(writer->Write(LogStream::kStdout, "end\n"));
  LogReadOptions tail;
  tail.tail_lines = 3;
  EXPECT_EQ(Contents(ReadAll(tail)),
            (std::vector<std::string>{"line 19998", "line 19999", "split end"}));
}

// Issue 5: a tail of N lines of up to 1 MiB each must not hold N MiB before the sink sees any.
TEST_F(CriLogTest, TailWindowIsBoundedByBytes) {
  auto writer = CriLogWriter::Open(path_);
  ASSERT_TRUE(writer);
  const std::string long_line(size_t{256} << 10, 'x');
  for (int i = 0; i < 64; ++i) {  // 16 MiB of 256 KiB lines
    ASSERT_TRUE(writer->Write(LogStream::kStdout, long_line + "\n"));
  }
  LogMemoryBudget budget(size_t{4} << 20, "too much");
  LogReadOptions tail;
  tail.tail_lines = 1000;
  tail.budget = &budget;
  int seen = 0;
  Status read = ReadLog(path_, tail, [&](const LogLine&) -> Status {
    ++seen;
    return Ok();
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ENOMEM);
  EXPECT_EQ(read.error().ToString(), "too much");
  EXPECT_EQ(seen, 0);
  EXPECT_LE(budget.peak(), budget.limit());
  EXPECT_EQ(budget.used(), 0U);  // the window gave back what it took

  // A tail that fits is read whole, and gives everything back too.
  tail.tail_lines = 10;
  EXPECT_EQ(ReadAll(tail).size(), 10U);
  EXPECT_GT(budget.peak(), size_t{10} * long_line.size());
  EXPECT_EQ(budget.used(), 0U);
}

TEST(LogMemoryBudgetTest, ChildAndParentLimits) {
  LogMemoryBudget process(100, "process");
  LogMemoryBudget one(60, "one", &process);
  LogMemoryBudget two(60, "two", &process);
  ASSERT_TRUE(one.Take(50));
  Status over = one.Take(20);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().ToString(), "one");
  ASSERT_TRUE(two.Take(40));
  Status shared = two.Take(20);  // two stays under 60, the process would pass 100
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().ToString(), "process");
  EXPECT_EQ(two.used(), 40U);  // nothing taken on failure
  EXPECT_EQ(process.used(), 90U);
  one.Give(50);
  two.Give(40);
  EXPECT_EQ(process.used(), 0U);
  EXPECT_EQ(process.peak(), 90U);
}

TEST_F(CriLogTest, MissingFile) {
  auto status = ReadLog(path_, {}, [](const LogLine&) -> Status { return Ok(); });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), ENOENT);
}

TEST_F(CriLogTest, FollowSeesNewLinesAndTruncation) {
  std::atomic<int> seen{0};
  std::atomic<bool> stop{false};
  std::vector<std::string> got;
  LogReadOptions options;
  options.follow = true;
  options.keep_following = [&] { return !stop.load(); };
  std::thread reader([&] {
    auto status = ReadLog(path_, options, [&](const LogLine& line) -> Status {
      got.push_back(line.content);
      ++seen;
      return Ok();
    });
    EXPECT_TRUE(status) << status.error().ToString();
  });
  auto wait_for = [&](int n) {
    for (int i = 0; i < 100 && seen.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen.load();
  };
  // The file does not exist yet: the reader waits for it.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  {
    auto writer = CriLogWriter::Open(path_);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->Write(LogStream::kStdout, "first\nsecond\n"));
  }
  EXPECT_EQ(wait_for(2), 2);
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  {
    auto writer = CriLogWriter::Open(path_);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->Write(LogStream::kStdout, "x\n"));
  }
  EXPECT_EQ(wait_for(3), 3);
  stop = true;
  reader.join();
  EXPECT_EQ(got, (std::vector<std::string>{"first", "second", "x"}));
}

TEST_F(CriLogTest, SinkErrorStops) {
  ASSERT_TRUE(
      os::WriteFile(path_, "2024-01-02T03:04:05Z stdout F a\n2024-01-02T03:04:05Z stdout F b\n"));
  int calls = 0;
  auto status = ReadLog(path_, {}, [&](const LogLine&) -> Status {
    ++calls;
    return Err(Error::Invalid("stop"));
  });
  EXPECT_FALSE(status);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace comet::pod
