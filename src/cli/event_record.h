// What the CLI appends to the durable event log (pod/event_log.h) for the api-service's
// ListenEvents: a failure to record is a warning, never a failed command. Thread-safe.
#ifndef COMET_CLI_EVENT_RECORD_H_
#define COMET_CLI_EVENT_RECORD_H_

#include <string>
#include <utility>
#include <vector>

#include "pod/event_log.h"

namespace comet::cli {

// Appends one event from "comet" with the time now; `data` as in pod::Event.
void RecordEvent(const std::string& data_dir, pod::EventType type, std::string id,
                 std::vector<std::pair<std::string, std::string>> data = {});

}  // namespace comet::cli

#endif  // COMET_CLI_EVENT_RECORD_H_
