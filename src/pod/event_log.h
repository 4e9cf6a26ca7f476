// comet's durable event log (docs/api-service.md "Events"): `comet` (stage0, gc, image commands)
// and the supervisors append one JSON line per event to <data dir>/events/log, and the
// api-service's ListenEvents replays it from a time and then follows it, so that events that
// happened while no service ran are not lost. The log rotates to events/log.1 past
// kEventLogMaxBytes. Writers append with one write(2) under a shared flock of events/lock and the
// rotation takes it exclusively, so a reader that has switched to the new file never misses a
// line written to the old one. Thread-safe (no shared state); an EventFollower is not.
#ifndef COMET_POD_EVENT_LOG_H_
#define COMET_POD_EVENT_LOG_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "os/unique_fd.h"

namespace comet::pod {

// v1alpha.EventType's numbering, so that the api-service uses the values as they are.
enum class EventType {
  kPodPrepared = 1,
  kPodPrepareAborted = 2,
  kPodStarted = 3,
  kPodExited = 4,
  kPodGarbageCollected = 5,
  kAppStarted = 6,
  kAppExited = 7,
  kImageImported = 8,
  kImageRemoved = 9,
};
// "pod-prepared", "pod-prepare-aborted", "pod-started", "pod-exited", "pod-garbage-collected",
// "app-started", "app-exited", "image-imported", "image-removed": the names in the log.
[[nodiscard]] std::string_view EventTypeName(EventType type);
[[nodiscard]] Result<EventType> ParseEventType(std::string_view name);

struct Event {
  EventType type = EventType::kPodPrepared;
  int64_t time_ns = 0;  // since the epoch
  std::string id;       // the pod's uuid or the image's manifest digest
  std::string from;     // who appended it: "comet", "comet-supervisor"
  // Details, e.g. {"app", "web"}, {"exit-code", "0"}, {"name", "<pod or image name>"}.
  std::vector<std::pair<std::string, std::string>> data;
};

inline constexpr int64_t kEventLogMaxBytes = int64_t{8} << 20;
// A line longer than this is not an event comet wrote (the reader skips it).
inline constexpr size_t kEventLineMaxBytes = size_t{16} * 1024;

[[nodiscard]] std::string EventLogDir(const std::string& data_dir);  // <data dir>/events

// One line of the log, with its newline: {"time":…,"type":"…","id":"…","from":"…","data":{…}}.
[[nodiscard]] std::string EventToLine(const Event& event);
// Parses a line (without its newline); Invalid names what is wrong.
[[nodiscard]] Result<Event> ParseEventLine(std::string_view line);

// Appends `event` to <data dir>/events/log (created 0750/0640 when missing), rotating first when
// the log is past `max_bytes`. Callers treat a failure as a warning: an event log that cannot be
// written must not fail a pod.
[[nodiscard]] Status AppendEvent(const std::string& data_dir, const Event& event,
                                 int64_t max_bytes = kEventLogMaxBytes);
// AppendEvent with the time now, for the writers' one-liners.
[[nodiscard]] Status AppendEventNow(const std::string& data_dir, EventType type, std::string id,
                                    std::string from,
                                    std::vector<std::pair<std::string, std::string>> data = {});

// Reads the log from the oldest kept line (log.1, then log) and then follows it as it grows and
// rotates. Read-only: needs only read access to events/ (the api-service runs unprivileged).
class EventFollower {
 public:
  // A missing events/ directory is not an error: there are no events yet.
  [[nodiscard]] static Result<EventFollower> Open(const std::string& data_dir);

  EventFollower(const EventFollower&) = delete;
  EventFollower& operator=(const EventFollower&) = delete;
  EventFollower(EventFollower&&) noexcept = default;
  EventFollower& operator=(EventFollower&&) noexcept = default;
  ~EventFollower() = default;

  // Calls `sink` for every complete line appended since the last call (the first call: every
  // kept line), in log order; malformed lines are skipped. Returns without waiting.
  [[nodiscard]] Status ReadAvailable(const std::function<void(Event)>& sink);
  // Waits up to `timeout` for the log to change (an inotify watch on events/). Returns true
  // when something may have been appended, false on timeout.
  [[nodiscard]] Result<bool> Wait(std::chrono::milliseconds timeout);

 private:
  // An open log file and the inode it was opened as.
  struct File {
    os::UniqueFd fd;
    dev_t dev = 0;
    ino_t ino = 0;
    [[nodiscard]] bool valid() const { return fd.valid(); }
    [[nodiscard]] bool Is(const struct stat& st) const;
  };

  explicit EventFollower(std::string dir) : dir_(std::move(dir)) {}
  // log.1 then log, both opened at once (an fd follows its file through a rotation).
  [[nodiscard]] Status OpenKept();
  [[nodiscard]] Result<File> OpenFile(const char* name) const;
  [[nodiscard]] Status Drain(const std::function<void(Event)>& sink);
  // After a rotation: on to the file that came after ours.
  [[nodiscard]] Status FollowRotation(const std::function<void(Event)>& sink);

  std::string dir_;
  os::UniqueFd inotify_;
  File file_;                // the file being read
  File next_;                // log, opened with log.1 at the start; read after it
  bool opened_any_ = false;  // a log existed at some point (before: nothing can be missed)
  std::string partial_;      // an incomplete last line, kept until its newline arrives
};

}  // namespace comet::pod

#endif  // COMET_POD_EVENT_LOG_H_
