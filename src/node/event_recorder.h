// The agent's events about each Kubernetes pod (kubectl's Events: Created, Started, Killing,
// Unhealthy, BackOff, ...): kept in memory and appended, one JSON object a line, to
// <root-dir>/events/<namespace>_<name>.jsonl, so that `comet node describe pod` (another process)
// shows them. Files are cut to the newest events when they grow past a bound. Thread-safe: probe
// and pod-operation threads record from their own threads.
#ifndef COMET_NODE_EVENT_RECORDER_H_
#define COMET_NODE_EVENT_RECORDER_H_

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "node/describe.h"

namespace comet::node {

// What the agent writes in Event::from (kubectl's From column).
inline constexpr const char* kEventSource = "comet-node";

// "<dir>/<namespace>_<name>.jsonl" (Kubernetes names have no '_' nor '/'; anything else is
// replaced, so a name never leaves `dir`).
[[nodiscard]] std::string EventsFile(std::string_view dir, std::string_view namespace_name,
                                     std::string_view name);

// One line of an events file, and back. Lines that do not parse are skipped by ReadEvents.
[[nodiscard]] std::string EventToJsonLine(const Event& event);
[[nodiscard]] Result<Event> EventFromJsonLine(std::string_view line);

// The events of a pod from its file, oldest first; none when there is no file.
[[nodiscard]] Result<std::vector<Event>> ReadEvents(std::string_view dir,
                                                    std::string_view namespace_name,
                                                    std::string_view name);

class EventRecorder {
 public:
  // `dir` is created (0700: messages may quote probe output) on the first event.
  explicit EventRecorder(std::string dir, size_t max_per_pod = 200)
      : dir_(std::move(dir)), max_per_pod_(max_per_pod) {}

  // Records an event now ("Normal" or "Warning"); a file that cannot be written is logged once.
  void Record(const std::string& namespace_name, const std::string& name, std::string_view type,
              std::string_view reason, const std::string& message);
  // The pod's events in memory (this run of the agent), oldest first.
  [[nodiscard]] std::vector<Event> Events(const std::string& namespace_name,
                                          const std::string& name) const;
  // Forgets a pod that is gone: its events in memory and its file.
  void Forget(const std::string& namespace_name, const std::string& name);

  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  size_t max_per_pod_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Event>> events_;  // by file path
  bool warned_ = false;
};

}  // namespace comet::node

#endif  // COMET_NODE_EVENT_RECORDER_H_
