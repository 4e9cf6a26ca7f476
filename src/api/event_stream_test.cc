#include "api/event_stream.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "os/temp_dir.h"

namespace comet::api {
namespace {

using pod::EventType;

constexpr int64_t kSecond = 1'000'000'000;

void Append(const std::string& dir, EventType type, const std::string& id, int64_t seconds,
            std::vector<std::pair<std::string, std::string>> data = {}) {
  pod::Event event;
  event.type = type;
  event.id = id;
  event.from = "test";
  event.time_ns = seconds * kSecond + 5;
  event.data = std::move(data);
  ASSERT_TRUE(pod::AppendEvent(dir, event));
}

// Streams the log through `filter` into `got`, cancelled after the first pass when `once`,
// else until the stream ends by itself (an until_time).
Status Collect(const std::string& dir, const v1alpha::EventFilter& filter, bool once,
               std::vector<v1alpha::Event>& got) {
  return StreamEvents(
      dir, filter, [once] { return once; },
      [&](std::vector<v1alpha::Event>& batch) {
        got.insert(got.end(), batch.begin(), batch.end());
        return true;
      });
}

// Replays the log through `filter` once (cancelled after the first pass).
std::vector<v1alpha::Event> Replay(const std::string& dir, const v1alpha::EventFilter& filter) {
  std::vector<v1alpha::Event> got;
  Status streamed = Collect(dir, filter, /*once=*/true, got);
  EXPECT_TRUE(streamed) << streamed.error().ToString();
  return got;
}

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create();
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    Append(dir_->path(), EventType::kPodPrepared, "pod-a", 100, {{"name", "web"}});
    Append(dir_->path(), EventType::kPodStarted, "pod-a", 101);
    Append(dir_->path(), EventType::kAppStarted, "pod-a", 102, {{"app", "nginx"}});
    Append(dir_->path(), EventType::kImageImported, "sha256:abc", 103, {{"name", "busybox"}});
    Append(dir_->path(), EventType::kPodExited, "pod-b", 104);
  }
  [[nodiscard]] std::string path() const { return dir_->path(); }
  std::optional<os::TempDir> dir_;
};

TEST_F(EventStreamTest, ProtoCarriesSecondsAndData) {
  auto all = Replay(path(), {});
  ASSERT_EQ(all.size(), 5U);
  EXPECT_EQ(all[0].type(), v1alpha::EVENT_TYPE_POD_PREPARED);
  EXPECT_EQ(all[0].id(), "pod-a");
  EXPECT_EQ(all[0].from(), "web");  // the pod's name, as rkt's proto says
  EXPECT_EQ(all[0].time(), 100);
  ASSERT_EQ(all[0].data_size(), 2);
  EXPECT_EQ(all[0].data(0).key(), "name");
  EXPECT_EQ(all[0].data(0).value(), "web");
  EXPECT_EQ(all[0].data(1).key(), "writer");  // who appended it
  EXPECT_EQ(all[0].data(1).value(), "test");
  EXPECT_EQ(all[1].from(), "");         // a pod without a name
  EXPECT_EQ(all[2].from(), "nginx");    // an app event: the app's name
  EXPECT_EQ(all[3].from(), "busybox");  // an image event: the image's name
  EXPECT_EQ(all[4].type(), v1alpha::EVENT_TYPE_POD_EXITED);
}

TEST_F(EventStreamTest, EveryFilterField) {
  v1alpha::EventFilter types;
  types.add_types(v1alpha::EVENT_TYPE_POD_STARTED);
  types.add_types(v1alpha::EVENT_TYPE_POD_EXITED);
  EXPECT_EQ(Replay(path(), types).size(), 2U);

  v1alpha::EventFilter ids;
  ids.add_ids("pod-a");
  EXPECT_EQ(Replay(path(), ids).size(), 3U);

  v1alpha::EventFilter names;
  names.add_names("nginx");  // an app's name
  names.add_names("busybox");
  auto named = Replay(path(), names);
  ASSERT_EQ(named.size(), 2U);
  EXPECT_EQ(named[0].type(), v1alpha::EVENT_TYPE_APP_STARTED);

  v1alpha::EventFilter window;
  window.set_since_time(101);
  window.set_until_time(103);  // until is exclusive
  auto between = Replay(path(), window);
  ASSERT_EQ(between.size(), 2U);
  EXPECT_EQ(between[0].time(), 101);
  EXPECT_EQ(between[1].time(), 102);

  v1alpha::EventFilter both;  // AND across fields
  both.add_ids("pod-a");
  both.add_types(v1alpha::EVENT_TYPE_POD_EXITED);
  EXPECT_TRUE(Replay(path(), both).empty());
}

// rkt's EventFilter.names matches Event.from: an app event by its app's name, not by its pod's.
TEST_F(EventStreamTest, NamesMatchTheSubjectsName) {
  Append(path(), EventType::kAppExited, "pod-a", 105, {{"app", "nginx"}, {"name", "web"}});
  v1alpha::EventFilter pod_name;
  pod_name.add_names("web");
  auto named = Replay(path(), pod_name);
  ASSERT_EQ(named.size(), 1U);
  EXPECT_EQ(named[0].type(), v1alpha::EVENT_TYPE_POD_PREPARED);
  v1alpha::EventFilter writer;
  writer.add_names("test");  // the writer is not the subject
  EXPECT_TRUE(Replay(path(), writer).empty());
}

// An event stamped just before until_time but appended just after it still arrives.
TEST_F(EventStreamTest, UntilTimeWaitsForLateAppends) {
  const int64_t until = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        1;
  std::thread writer([&] {
    std::this_thread::sleep_until(
        std::chrono::system_clock::time_point(std::chrono::seconds(until)) +
        std::chrono::milliseconds(300));
    Append(dir_->path(), EventType::kPodExited, "late", until - 1);
  });
  v1alpha::EventFilter filter;
  filter.add_ids("late");
  filter.set_until_time(until);
  std::vector<v1alpha::Event> got;
  Status streamed = Collect(path(), filter, /*once=*/false, got);
  writer.join();
  ASSERT_TRUE(streamed) << streamed.error().ToString();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].id(), "late");
}

TEST_F(EventStreamTest, BadFiltersAreInvalid) {
  v1alpha::EventFilter negative;
  negative.set_since_time(-1);
  EXPECT_FALSE(ValidateEventFilter(negative));
  v1alpha::EventFilter backwards;
  backwards.set_since_time(200);
  backwards.set_until_time(100);
  EXPECT_FALSE(ValidateEventFilter(backwards));
  v1alpha::EventFilter unknown;
  unknown.add_types(static_cast<v1alpha::EventType>(42));
  auto invalid = ValidateEventFilter(unknown);
  ASSERT_FALSE(invalid);
  EXPECT_NE(invalid.error().ToString().find("filter.types[0]"), std::string::npos);
  v1alpha::EventFilter huge;
  for (int i = 0; i < 2000; ++i) {
    huge.add_ids("id-" + std::to_string(i));
  }
  EXPECT_FALSE(ValidateEventFilter(huge));
  EXPECT_FALSE(StreamEvents(
      path(), unknown, [] { return false; }, [](std::vector<v1alpha::Event>&) { return true; }));
}

TEST_F(EventStreamTest, PastUntilTimeEndsTheStream) {
  v1alpha::EventFilter filter;
  filter.set_until_time(105);  // long past: replay, then end without being cancelled
  std::vector<v1alpha::Event> got;
  Status streamed = Collect(path(), filter, /*once=*/false, got);
  ASSERT_TRUE(streamed);
  EXPECT_EQ(got.size(), 5U);
}

TEST_F(EventStreamTest, FollowsNewEventsUntilTheClientGoes) {
  std::atomic<int> seen{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Appended while the stream waits: it must arrive without a poll interval's delay.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Append(dir_->path(), EventType::kAppExited, "pod-a", 200, {{"app", "nginx"}});
  });
  v1alpha::EventFilter filter;
  filter.add_types(v1alpha::EVENT_TYPE_APP_EXITED);
  EventStreamOptions options;
  options.poll = std::chrono::milliseconds(10000);  // only inotify can wake it in time
  const auto start = std::chrono::steady_clock::now();
  Status streamed = StreamEvents(
      path(), filter, [&] { return stop.load(); },
      [&](std::vector<v1alpha::Event>& batch) {
        seen += static_cast<int>(batch.size());
        stop = true;
        return false;  // the client is gone after the first batch
      },
      options);
  writer.join();
  ASSERT_TRUE(streamed) << streamed.error().ToString();
  EXPECT_EQ(seen.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace comet::api
