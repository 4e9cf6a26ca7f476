// ListenEvents end to end: events stream while the real `comet` starts and stops pods, with every
// filter field, and events that happened while no service ran are replayed by since_time.
#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "e2e/api/api_fixture.h"

namespace comet::e2e::api {
namespace {

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A ListenEvents stream read on its own thread until the test cancels it.
class Listener {
 public:
  Listener(v1alpha::PublicAPI::Stub& stub, const v1alpha::EventFilter& filter) {
    v1alpha::ListenEventsRequest request;
    *request.mutable_filter() = filter;
    reader_ = stub.ListenEvents(&context_, request);
    thread_ = std::thread([this] {
      v1alpha::ListenEventsResponse response;
      while (reader_->Read(&response)) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& event : response.events()) {
          events_.push_back(event);
        }
      }
      status_ = reader_->Finish();
      done_ = true;
    });
  }
  ~Listener() { Stop(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  Listener(Listener&&) = delete;
  Listener& operator=(Listener&&) = delete;

  void Stop() {
    if (thread_.joinable()) {
      context_.TryCancel();
      thread_.join();
    }
  }
  std::vector<v1alpha::Event> Events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  // Waits until an event of `type` for `id` arrived.
  bool WaitFor(v1alpha::EventType type, const std::string& id) {
    return Eventually([&] {
      const std::vector<v1alpha::Event> events = Events();
      return std::any_of(events.begin(), events.end(), [&](const v1alpha::Event& event) {
        return event.type() == type && event.id() == id;
      });
    });
  }
  [[nodiscard]] bool done() const { return done_.load(); }
  [[nodiscard]] const grpc::Status& status() const { return status_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1alpha::ListenEventsResponse>> reader_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<v1alpha::Event> events_;
  grpc::Status status_;
  std::atomic<bool> done_{false};
};

std::vector<v1alpha::EventType> TypesOf(const std::vector<v1alpha::Event>& events,
                                        const std::string& id) {
  std::vector<v1alpha::EventType> types;
  for (const auto& event : events) {
    if (event.id() == id) {
      types.push_back(event.type());
    }
  }
  return types;
}

std::string Datum(const v1alpha::Event& event, const std::string& key) {
  for (const auto& kv : event.data()) {
    if (kv.key() == key) {
      return kv.value();
    }
  }
  return "";
}

class ApiEventsTest : public ApiTest {};

TEST_F(ApiEventsTest, StreamWhilePodsStartAndStop) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::EventFilter everything;
  Listener listener(*stub_, everything);
  // The image imported by the fixture before the service started is replayed.
  ASSERT_TRUE(Eventually([&] {
    const std::vector<v1alpha::Event> events = listener.Events();
    return std::any_of(events.begin(), events.end(), [](const v1alpha::Event& event) {
      return event.type() == v1alpha::EVENT_TYPE_IMAGE_IMPORTED;
    });
  }));

  const std::string uuid = RunDetached(
      Concat({{"--pod-name=evented"}, ShellApp("sleeper", "echo up; exec sleep 1000")}));
  ASSERT_FALSE(uuid.empty());
  EXPECT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_POD_STARTED, uuid));
  EXPECT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_APP_STARTED, uuid));
  Ok({"stop", uuid});
  EXPECT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_APP_EXITED, uuid));
  EXPECT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_POD_EXITED, uuid));
  Ok({"rm", uuid});
  EXPECT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED, uuid));
  listener.Stop();

  const auto types = TypesOf(listener.Events(), uuid);
  const std::vector<v1alpha::EventType> want = {
      v1alpha::EVENT_TYPE_POD_PREPARED, v1alpha::EVENT_TYPE_POD_STARTED,
      v1alpha::EVENT_TYPE_APP_STARTED,  v1alpha::EVENT_TYPE_APP_EXITED,
      v1alpha::EVENT_TYPE_POD_EXITED,   v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED};
  EXPECT_EQ(types, want);
  for (const auto& event : listener.Events()) {
    if (event.id() != uuid) {
      continue;
    }
    EXPECT_GT(event.time(), NowSeconds() - 600);
    EXPECT_LE(event.time(), NowSeconds());
    if (event.type() == v1alpha::EVENT_TYPE_APP_EXITED) {
      EXPECT_EQ(Datum(event, "app"), "sleeper");
      EXPECT_FALSE(Datum(event, "exit-code").empty());
      EXPECT_EQ(event.from(), "sleeper");  // rkt: an app event is from its app
      EXPECT_EQ(Datum(event, "writer"), "comet-supervisor");
    }
    if (event.type() == v1alpha::EVENT_TYPE_POD_PREPARED) {
      EXPECT_EQ(Datum(event, "name"), "evented");
      EXPECT_EQ(event.from(), "evented");  // rkt: a pod event is from its pod's name
      EXPECT_EQ(Datum(event, "writer"), "comet");
    }
  }
}

TEST_F(ApiEventsTest, EveryFilterField) {
  const int64_t start = NowSeconds();
  const std::string a =
      Trim(Ok({"prepare", "--quiet", "--pod-name=alpha", kImage, "--", "/bin/true"}));
  const std::string b =
      Trim(Ok({"prepare", "--quiet", "--pod-name=beta", kImage, "--", "/bin/true"}));
  Ok({"rm", a});
  ASSERT_NO_FATAL_FAILURE(StartService());
  // Replays to until_time and ends by itself: a bounded query of the past.
  auto query = [&](v1alpha::EventFilter filter) {
    filter.set_until_time(NowSeconds() + 1);
    Listener listener(*stub_, filter);
    EXPECT_TRUE(Eventually([&] { return listener.done(); }, 10s));
    EXPECT_TRUE(listener.status().ok()) << listener.status().error_message();
    return listener.Events();
  };
  v1alpha::EventFilter by_type;
  by_type.set_since_time(start);
  by_type.add_types(v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED);
  auto collected = query(by_type);
  ASSERT_EQ(collected.size(), 1U);
  EXPECT_EQ(collected[0].id(), a);

  v1alpha::EventFilter by_id;
  by_id.add_ids(b);
  EXPECT_EQ(TypesOf(query(by_id), b),
            std::vector<v1alpha::EventType>{v1alpha::EVENT_TYPE_POD_PREPARED});

  v1alpha::EventFilter by_name;
  by_name.add_names("alpha");
  auto named = query(by_name);
  ASSERT_EQ(named.size(), 1U);
  EXPECT_EQ(named[0].id(), a);

  v1alpha::EventFilter and_fields;  // AND: b was never garbage-collected
  and_fields.add_ids(b);
  and_fields.add_types(v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED);
  EXPECT_TRUE(query(and_fields).empty());

  v1alpha::EventFilter future;
  future.set_since_time(NowSeconds() + 3600);
  future.set_until_time(NowSeconds() + 3601);
  Listener nothing(*stub_, future);  // waits for the future: cancelled below
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(nothing.Events().empty());

  v1alpha::EventFilter bad;
  bad.set_since_time(100);
  bad.set_until_time(50);
  Listener refused(*stub_, bad);
  ASSERT_TRUE(Eventually([&] { return refused.done(); }, 10s));
  EXPECT_EQ(refused.status().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.status().error_message().find("until_time"), std::string::npos);
}

TEST_F(ApiEventsTest, EventsWhileTheServiceWasDownAreReplayed) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const int64_t start = NowSeconds();
  service_->Terminate();
  service_.reset();
  // With no service running: a pod runs to its end and is removed.
  const std::string uuid_file = tmp() + "/down.uuid";
  (void)Comet(
      Concat({{"run", "--rm", "--uuid-file-save=" + uuid_file}, ShellApp("brief", "exit 0")}));
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::EventFilter filter;
  filter.set_since_time(start);
  filter.add_ids(uuid);
  Listener listener(*stub_, filter);
  ASSERT_TRUE(listener.WaitFor(v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED, uuid))
      << "events of " << uuid << ": " << ::testing::PrintToString(TypesOf(listener.Events(), uuid))
      << "; " << listener.status().error_message();
  listener.Stop();
  const std::vector<v1alpha::EventType> want = {
      v1alpha::EVENT_TYPE_POD_PREPARED, v1alpha::EVENT_TYPE_POD_STARTED,
      v1alpha::EVENT_TYPE_APP_STARTED,  v1alpha::EVENT_TYPE_APP_EXITED,
      v1alpha::EVENT_TYPE_POD_EXITED,   v1alpha::EVENT_TYPE_POD_GARBAGE_COLLECTED};
  EXPECT_EQ(TypesOf(listener.Events(), uuid), want);
}

}  // namespace
}  // namespace comet::e2e::api
