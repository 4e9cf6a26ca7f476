// Supervisor: what it appends to the durable event log (pod/event_log.h) for the api-service's
// ListenEvents — pod started/exited and app started/exited — from "comet-supervisor".
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "supervisor/supervisor.h"

namespace comet::supervisor {

void Supervisor::RecordEvent(pod::EventType type,
                             std::vector<std::pair<std::string, std::string>> data) {
  if (type == pod::EventType::kPodStarted) {
    pod_started_recorded_ = true;
  } else if (type == pod::EventType::kPodExited && !pod_started_recorded_) {
    return;  // it never started: stage0's prepare-aborted or gc tells the story
  }
  if (!manifest_.name.empty()) {
    data.emplace_back("name", manifest_.name);
  }
  // A log that cannot be written must not stop the pod: warn once per event and carry on.
  Status appended = pod::AppendEventNow(options_.data_dir, type, manifest_.uuid, "comet-supervisor",
                                        std::move(data));
  if (!appended) {
    log::Warning("recording event {}: {}", pod::EventTypeName(type), appended.error().ToString());
  }
}

void Supervisor::RecordAppEvent(pod::EventType type, const AppRecord& record) {
  std::vector<std::pair<std::string, std::string>> data = {{"app", record.app.name}};
  if (type == pod::EventType::kAppExited) {
    data.emplace_back("exit-code", std::to_string(record.status.exit_code));
    if (!record.status.reason.empty()) {
      data.emplace_back("reason", record.status.reason);
    }
  }
  RecordEvent(type, std::move(data));
}

}  // namespace comet::supervisor
