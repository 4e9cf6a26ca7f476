// StreamEvents: the event log, replayed and followed, as v1alpha.Event batches.
#include "api/event_stream.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace comet::api {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int kMaxFilterValues = 1024;
// An event is stamped before its writer appends it: one stamped just before until_time can reach
// the log just after it. Followed this long past until_time, as GetLogs does (kUntilGrace).
constexpr int64_t kUntilGraceSeconds = 1;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename Values, typename T>
bool AnyEquals(const Values& values, const T& value) {
  return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
}

std::string_view Datum(const pod::Event& event, std::string_view key) {
  for (const auto& [name, value] : event.data) {
    if (name == key) {
      return value;
    }
  }
  return {};
}

}  // namespace

std::string_view EventSubjectName(const pod::Event& event) {
  const bool app_event =
      event.type == pod::EventType::kAppStarted || event.type == pod::EventType::kAppExited;
  return Datum(event, app_event ? "app" : "name");
}

v1alpha::Event EventToProto(const pod::Event& event) {
  v1alpha::Event out;
  out.set_type(static_cast<v1alpha::EventType>(event.type));
  out.set_id(event.id);
  // rkt's proto: `from` is the subject's name. The log's `from` (who appended the event) goes
  // to data as "writer".
  out.set_from(std::string(EventSubjectName(event)));
  out.set_time(event.time_ns / kNanosPerSecond);
  for (const auto& [key, value] : event.data) {
    v1alpha::KeyValue* datum = out.add_data();
    datum->set_key(key);
    datum->set_value(value);
  }
  if (!event.from.empty()) {
    v1alpha::KeyValue* writer = out.add_data();
    writer->set_key("writer");
    writer->set_value(event.from);
  }
  return out;
}

bool EventMatches(const pod::Event& event, const v1alpha::EventFilter& filter) {
  const int64_t seconds = event.time_ns / kNanosPerSecond;
  if (filter.since_time() != 0 && seconds < filter.since_time()) {
    return false;
  }
  if (filter.until_time() != 0 && seconds >= filter.until_time()) {
    return false;
  }
  const auto type = static_cast<v1alpha::EventType>(event.type);
  const bool type_ok = filter.types().empty() ||
                       std::any_of(filter.types().begin(), filter.types().end(),
                                   [type](int wanted) { return wanted == static_cast<int>(type); });
  return type_ok && AnyEquals(filter.ids(), event.id) &&
         AnyEquals(filter.names(), EventSubjectName(event));
}

Status ValidateEventFilter(const v1alpha::EventFilter& filter) {
  if (filter.since_time() < 0) {
    return Err(Error::Invalid("filter.since_time: must not be negative"));
  }
  if (filter.until_time() < 0) {
    return Err(Error::Invalid("filter.until_time: must not be negative"));
  }
  if (filter.until_time() != 0 && filter.until_time() <= filter.since_time()) {
    return Err(Error::Invalid("filter.until_time: must be after since_time"));
  }
  // Every event is matched against every value: bound the work one request can ask for.
  if (filter.types_size() > kMaxFilterValues || filter.ids_size() > kMaxFilterValues ||
      filter.names_size() > kMaxFilterValues) {
    return Err(Error::Invalid(
        fmt::format("filter: more than {} types, ids or names in one filter", kMaxFilterValues)));
  }
  for (int i = 0; i < filter.types_size(); ++i) {
    const int type = filter.types(i);
    if (type <= v1alpha::EVENT_TYPE_UNDEFINED || !v1alpha::EventType_IsValid(type)) {
      return Err(Error::Invalid("filter.types[" + std::to_string(i) + "]: unknown event type " +
                                std::to_string(type)));
    }
  }
  return Ok();
}

Status StreamEvents(const std::string& data_dir, const v1alpha::EventFilter& filter,
                    const std::function<bool()>& cancelled,
                    const std::function<bool(std::vector<v1alpha::Event>&)>& send,
                    const EventStreamOptions& options) {
  RETURN_IF_ERROR(ValidateEventFilter(filter));
  ASSIGN_OR_RETURN(pod::EventFollower follower, pod::EventFollower::Open(data_dir));
  std::vector<v1alpha::Event> batch;
  bool client_gone = false;
  auto flush = [&] {
    if (!batch.empty() && !client_gone) {
      client_gone = !send(batch);
      batch.clear();
    }
  };
  auto collect = [&](const pod::Event& event) {
    // Once the client is gone nothing is sent: do not build what would only pile up.
    if (!client_gone && EventMatches(event, filter)) {
      batch.push_back(EventToProto(event));
      if (static_cast<int>(batch.size()) >= options.batch) {
        flush();
      }
    }
  };
  for (;;) {
    RETURN_IF_ERROR(follower.ReadAvailable(collect));
    flush();
    if (client_gone || cancelled()) {
      return Ok();
    }
    // Everything up to now is sent; past until_time nothing more can match.
    if (filter.until_time() != 0 && NowSeconds() >= filter.until_time() + kUntilGraceSeconds) {
      return Ok();
    }
    ASSIGN_OR_RETURN(bool changed, follower.Wait(options.poll));
    (void)changed;  // either way: read what is there, look at cancelled again
  }
}

}  // namespace comet::api
