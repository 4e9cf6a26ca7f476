#include "pod/event_log.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::pod {
namespace {

using std::chrono::milliseconds;

Event MakeEvent(EventType type, std::string id, int64_t time_ns) {
  Event event;
  event.type = type;
  event.time_ns = time_ns;
  event.id = std::move(id);
  event.from = "test";
  event.data = {{"app", "web"}, {"exit-code", "3"}};
  return event;
}

std::vector<Event> ReadAll(EventFollower& follower) {
  std::vector<Event> events;
  auto status = follower.ReadAvailable([&](Event event) { events.push_back(std::move(event)); });
  EXPECT_TRUE(status) << status.error().ToString();
  return events;
}

TEST(EventLogTest, LineRoundTrip) {
  Event event = MakeEvent(EventType::kAppExited, "0b6c4d2e-1111-4222-8333-444455556666", 42);
  std::string line = EventToLine(event);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  auto parsed = ParseEventLine(line);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->type, EventType::kAppExited);
  EXPECT_EQ(parsed->time_ns, 42);
  EXPECT_EQ(parsed->id, event.id);
  EXPECT_EQ(parsed->from, "test");
  EXPECT_EQ(parsed->data, event.data);
}

TEST(EventLogTest, LongDataIsCutSoThatReadersKeepTheLine) {
  Event event = MakeEvent(EventType::kAppExited, std::string(100000, 'i'), 1);
  event.data.clear();
  for (int i = 0; i < 100; ++i) {
    event.data.emplace_back("k" + std::to_string(i), std::string(100000, 'v'));
  }
  std::string line = EventToLine(event);
  line.pop_back();
  EXPECT_LE(line.size(), kEventLineMaxBytes);
  auto parsed = ParseEventLine(line);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_FALSE(parsed->data.empty());
}

// Control characters are escaped to 6 bytes each (\u00XX): a line of values cut to their byte
// limit can still pass the readers' limit, and they would skip the event.
TEST(EventLogTest, EscapedDataIsCutSoThatReadersKeepTheLine) {
  Event event = MakeEvent(EventType::kAppExited, std::string(1000, '\x01'), 1);
  event.from = std::string(1000, '\x02');
  event.data.clear();
  for (int i = 0; i < 8; ++i) {
    event.data.emplace_back(std::string(1000, static_cast<char>(3 + i)), std::string(1000, '\x1f'));
  }
  std::string line = EventToLine(event);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_LE(line.size(), kEventLineMaxBytes);
  auto parsed = ParseEventLine(line);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->type, EventType::kAppExited);
  EXPECT_EQ(parsed->data.size(), 8U);
  EXPECT_FALSE(parsed->id.empty());
}

TEST(EventLogTest, EveryTypeHasAName) {
  for (int value = 1; value <= 9; ++value) {
    auto type = static_cast<EventType>(value);
    auto parsed = ParseEventType(EventTypeName(type));
    ASSERT_TRUE(parsed) << value;
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_FALSE(ParseEventType("pod-exploded"));
}

TEST(EventLogTest, BadLinesAreErrors) {
  EXPECT_FALSE(ParseEventLine("not json"));
  EXPECT_FALSE(ParseEventLine("[1,2]"));
  EXPECT_FALSE(ParseEventLine(R"({"time":1,"type":"pod-started"})"));
  EXPECT_FALSE(ParseEventLine(R"({"time":"1","type":"pod-started","id":"x"})"));
  EXPECT_FALSE(ParseEventLine(R"({"time":1,"type":"nope","id":"x"})"));
  EXPECT_FALSE(ParseEventLine(std::string(kEventLineMaxBytes + 1, ' ')));
}

TEST(EventLogTest, FollowerSeesEventsInOrderAndSkipsGarbage) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  // No events directory yet: an empty log, not an error.
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower) << follower.error().ToString();
  EXPECT_TRUE(ReadAll(*follower).empty());

  ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kPodPrepared, "a", 1)));
  ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kPodStarted, "a", 2)));
  auto events = ReadAll(*follower);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, EventType::kPodPrepared);
  EXPECT_EQ(events[1].type, EventType::kPodStarted);

  // A foreign line in the middle is skipped; the lines around it are not.
  auto fd = os::Open(os::JoinPath(EventLogDir(dir->path()), "log"), O_WRONLY | O_APPEND);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(os::WriteAll(fd->get(), "garbage\n"));
  ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kPodExited, "a", 3)));
  events = ReadAll(*follower);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, EventType::kPodExited);
}

TEST(EventLogTest, WaitWakesOnAppendAndTimesOut) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kPodPrepared, "a", 1)));
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower);
  EXPECT_EQ(ReadAll(*follower).size(), 1U);
  auto idle = follower->Wait(milliseconds(50));
  ASSERT_TRUE(idle);
  EXPECT_FALSE(*idle);
  ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kPodStarted, "a", 2)));
  auto woke = follower->Wait(milliseconds(5000));
  ASSERT_TRUE(woke);
  EXPECT_TRUE(*woke);
  EXPECT_EQ(ReadAll(*follower).size(), 1U);
}

TEST(EventLogTest, RotationLosesNothing) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  constexpr int64_t kSmall = 1000;  // a few lines per file
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower);
  std::vector<int64_t> seen;
  auto collect = [&](const Event& event) { seen.push_back(event.time_ns); };
  for (int64_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kAppStarted, "a", i), kSmall));
    // Read now and then, so that rotations happen both between and during reads.
    if (i % 3 == 0) {
      ASSERT_TRUE(follower->ReadAvailable(collect));
    }
  }
  ASSERT_TRUE(follower->ReadAvailable(collect));
  // Everything since the follower's last rotation-complete view: no gaps, no duplicates, in order.
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], seen[i - 1] + 1) << "at " << i;
  }
  EXPECT_EQ(seen.back(), 39);
  EXPECT_EQ(seen.front(), 0);
  // Only log and log.1 are kept, each bounded by about the rotation size.
  EXPECT_TRUE(os::Exists(os::JoinPath(EventLogDir(dir->path()), "log.1")));
  EXPECT_FALSE(os::Exists(os::JoinPath(EventLogDir(dir->path()), "log.2")));

  // A fresh follower replays what is kept, oldest first.
  auto fresh = EventFollower::Open(dir->path());
  ASSERT_TRUE(fresh);
  auto replay = ReadAll(*fresh);
  ASSERT_FALSE(replay.empty());
  EXPECT_EQ(replay.back().time_ns, 39);
  for (size_t i = 1; i < replay.size(); ++i) {
    EXPECT_EQ(replay[i].time_ns, replay[i - 1].time_ns + 1);
  }
}

TEST(EventLogTest, RotationsBetweenOpenAndReadLoseNothing) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  constexpr int64_t kSmall = 1000;  // about 7 lines per file
  int64_t next = 0;
  auto append = [&](int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(AppendEvent(dir->path(), MakeEvent(EventType::kAppStarted, "a", next++), kSmall));
    }
  };
  append(10);  // log.1 and log both hold lines now
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower);
  // Rotated once (log -> log.1) before the first read, then once more while it reads.
  append(6);
  std::vector<int64_t> seen;
  bool appended_while_reading = false;
  ASSERT_TRUE(follower->ReadAvailable([&](const Event& event) {
    seen.push_back(event.time_ns);
    if (!appended_while_reading) {
      appended_while_reading = true;
      append(8);
    }
  }));
  ASSERT_TRUE(follower->ReadAvailable([&](const Event& event) { seen.push_back(event.time_ns); }));
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], seen[i - 1] + 1) << "gap or repeat at " << i;
  }
  EXPECT_EQ(seen.back(), next - 1);
}

// Forks `writers` processes that each append `each` events with rotation at `max_bytes`.
void AppendConcurrently(const std::string& data_dir, int writers, int each, int64_t max_bytes) {
  std::vector<pid_t> children;
  for (int w = 0; w < writers; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < each; ++i) {
        Event event = MakeEvent(EventType::kAppStarted, "w" + std::to_string(w), i);
        if (!AppendEvent(data_dir, event, max_bytes)) {
          ::_exit(1);
        }
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

TEST(EventLogTest, ConcurrentWritersNeverTearLines) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  constexpr int kWriters = 4;
  constexpr int kEach = 200;
  AppendConcurrently(dir->path(), kWriters, kEach, kEventLogMaxBytes);
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower);
  auto events = ReadAll(*follower);
  // Every line parses (a torn line would be skipped) and each writer's lines keep their order.
  ASSERT_EQ(events.size(), size_t{kWriters} * size_t{kEach});
  std::vector<int64_t> next(kWriters, 0);
  for (const auto& event : events) {
    int w = std::stoi(event.id.substr(1));
    EXPECT_EQ(event.time_ns, next[static_cast<size_t>(w)]++) << event.id;
  }
}

TEST(EventLogTest, ConcurrentRotationKeepsWholeLines) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  AppendConcurrently(dir->path(), 4, 200, 20000);
  // Every line of both kept files is a whole event.
  size_t lines = 0;
  for (const char* name : {"log.1", "log"}) {
    auto text = os::ReadFile(os::JoinPath(EventLogDir(dir->path()), name));
    ASSERT_TRUE(text) << name;
    lines += static_cast<size_t>(std::count(text->begin(), text->end(), '\n'));
  }
  auto follower = EventFollower::Open(dir->path());
  ASSERT_TRUE(follower);
  EXPECT_EQ(ReadAll(*follower).size(), lines);
  EXPECT_GT(lines, 100U);
}

}  // namespace
}  // namespace comet::pod
