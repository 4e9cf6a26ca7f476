// ListenEvents' engine: replays comet's durable event log (pod/event_log.h) from the filter's
// since_time and then follows it, handing batches of matching v1alpha.Events to the caller, until
// the filter's until_time passes, the caller cancels, or sending fails. Not thread-safe: one
// stream per call.
#ifndef COMET_API_EVENT_STREAM_H_
#define COMET_API_EVENT_STREAM_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pod/event_log.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

// The name of what the event is about, rkt's Event.from: the app's name for app events (datum
// "app"), else the pod's or image's name (datum "name"; empty for a pod without --pod-name).
[[nodiscard]] std::string_view EventSubjectName(const pod::Event& event);
// The event as the wire carries it: time in Unix seconds, `from` the subject's name, data as
// KeyValues plus "writer" (comet or comet-supervisor: the log's `from`).
[[nodiscard]] v1alpha::Event EventToProto(const pod::Event& event);
// rkt's filter semantics: every non-empty field must match (types, ids, names: any of the
// values; names match `from`, the subject's name); since_time <= time < until_time (Unix
// seconds, 0: unbounded). With until_time the stream follows until 1 s past it (late appends).
[[nodiscard]] bool EventMatches(const pod::Event& event, const v1alpha::EventFilter& filter);
// Invalid when the filter cannot match anything sensible (negative times, until <= since, an
// unknown event type value), naming the field.
[[nodiscard]] Status ValidateEventFilter(const v1alpha::EventFilter& filter);

struct EventStreamOptions {
  // How long to wait for the log to change before looking at `cancelled` again.
  std::chrono::milliseconds poll = std::chrono::milliseconds(100);
  // At most this many events per batch handed to `send`.
  int batch = 256;
};

// Streams the events of `data_dir` matching `filter`. `cancelled` is polled between waits;
// `send` returns false when the client is gone. Returns Ok when the stream ended normally
// (until_time passed, cancelled, client gone).
[[nodiscard]] Status StreamEvents(const std::string& data_dir, const v1alpha::EventFilter& filter,
                                  const std::function<bool()>& cancelled,
                                  const std::function<bool(std::vector<v1alpha::Event>&)>& send,
                                  const EventStreamOptions& options = {});

}  // namespace comet::api

#endif  // COMET_API_EVENT_STREAM_H_
