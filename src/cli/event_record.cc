// RecordEvent: the CLI's one way into the event log.
#include "cli/event_record.h"

#include "base/log.h"

namespace comet::cli {

void RecordEvent(const std::string& data_dir, pod::EventType type, std::string id,
                 std::vector<std::pair<std::string, std::string>> data) {
  const std::string what(pod::EventTypeName(type));
  Status appended = pod::AppendEventNow(data_dir, type, id, "comet", std::move(data));
  if (!appended) {
    log::Warning("recording event {} of {}: {}", what, id, appended.error().ToString());
  }
}

}  // namespace comet::cli
