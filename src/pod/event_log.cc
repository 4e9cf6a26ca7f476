// The event log's writer (append, rotate) and its line format.
#include "pod/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "base/json.h"
#include "os/file.h"
#include "os/file_lock.h"

namespace comet::pod {
namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 9> kTypeNames = {{
    {EventType::kPodPrepared, "pod-prepared"},
    {EventType::kPodPrepareAborted, "pod-prepare-aborted"},
    {EventType::kPodStarted, "pod-started"},
    {EventType::kPodExited, "pod-exited"},
    {EventType::kPodGarbageCollected, "pod-garbage-collected"},
    {EventType::kAppStarted, "app-started"},
    {EventType::kAppExited, "app-exited"},
    {EventType::kImageImported, "image-imported"},
    {EventType::kImageRemoved, "image-removed"},
}};

constexpr size_t kMaxDatumBytes = 512;  // per string; EventToLine cuts more if escaping needs
constexpr size_t kMaxData = 8;
constexpr const char* kLogFile = "log";
constexpr const char* kOldLogFile = "log.1";
constexpr const char* kLockFile = "lock";

// Renames log to log.1 when it is (still) past max_bytes; the caller holds the lock exclusively,
// so no writer has the old file open for writing any more.
Status RotateIfFull(const std::string& dir, int64_t max_bytes) {
  const std::string log = os::JoinPath(dir, kLogFile);
  struct stat st {};
  if (::stat(log.c_str(), &st) != 0) {
    return errno == ENOENT ? Ok() : Status(Err(Error::FromErrno("stat", log)));
  }
  if (st.st_size < max_bytes) {
    return Ok();
  }
  const std::string old = os::JoinPath(dir, kOldLogFile);
  if (::rename(log.c_str(), old.c_str()) != 0) {
    return Err(Error::FromErrno("rename", log));
  }
  return Ok();
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  for (const auto& [value, name] : kTypeNames) {
    if (value == type) {
      return name;
    }
  }
  return "unknown";
}

Result<EventType> ParseEventType(std::string_view name) {
  for (const auto& [value, known] : kTypeNames) {
    if (known == name) {
      return value;
    }
  }
  return Err(Error::Invalid("unknown event type \"" + json::Printable(name) + "\""));
}

std::string EventLogDir(const std::string& data_dir) {
  return os::JoinPath(data_dir, "events");
}

namespace {

// The line with every string cut to `cap` bytes.
std::string DumpLine(const Event& event, size_t cap) {
  json::OrderedJson line;
  line["time"] = event.time_ns;
  line["type"] = std::string(EventTypeName(event.type));
  line["id"] = event.id.substr(0, cap);
  line["from"] = event.from.substr(0, cap);
  json::OrderedJson data = json::OrderedJson::object();
  for (size_t i = 0; i < event.data.size() && i < kMaxData; ++i) {
    const auto& [key, value] = event.data[i];
    data[key.substr(0, cap)] = value.substr(0, cap);
  }
  line["data"] = std::move(data);
  return json::Dump(line, -1);
}

}  // namespace

std::string EventToLine(const Event& event) {
  // Readers skip lines past kEventLineMaxBytes. What counts is the line once escaped: a control
  // character takes 6 bytes (\u00XX), so strings cut to kMaxDatumBytes can still make one too
  // long. Cut them shorter until the line fits (a cap of 0 leaves a line of a few dozen bytes).
  size_t cap = kMaxDatumBytes;
  std::string line = DumpLine(event, cap);
  while (line.size() > kEventLineMaxBytes && cap > 0) {
    cap /= 2;
    line = DumpLine(event, cap);
  }
  line.push_back('\n');
  return line;
}

Result<Event> ParseEventLine(std::string_view line) {
  if (line.size() > kEventLineMaxBytes) {
    return Err(Error::Invalid("event line longer than " + std::to_string(kEventLineMaxBytes)));
  }
  json::Json doc = json::Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return Err(Error::Invalid("event line is not a JSON object"));
  }
  Event event;
  const auto time = doc.find("time");
  const auto type = doc.find("type");
  const auto id = doc.find("id");
  if (time == doc.end() || !time->is_number_integer() || type == doc.end() || !type->is_string() ||
      id == doc.end() || !id->is_string()) {
    return Err(Error::Invalid("event line lacks time, type or id"));
  }
  event.time_ns = time->get<int64_t>();
  ASSIGN_OR_RETURN(event.type, ParseEventType(type->get<std::string>()));
  event.id = id->get<std::string>();
  if (const auto from = doc.find("from"); from != doc.end() && from->is_string()) {
    event.from = from->get<std::string>();
  }
  if (const auto data = doc.find("data"); data != doc.end() && data->is_object()) {
    for (const auto& [key, value] : data->items()) {
      if (value.is_string()) {
        event.data.emplace_back(key, value.get<std::string>());
      }
    }
  }
  return event;
}

Status AppendEvent(const std::string& data_dir, const Event& event, int64_t max_bytes) {
  const std::string dir = EventLogDir(data_dir);
  RETURN_IF_ERROR(os::MkdirAll(dir, 0750));
  const std::string lock_path = os::JoinPath(dir, kLockFile);
  const std::string log = os::JoinPath(dir, kLogFile);
  const std::string line = EventToLine(event);
  {
    ASSIGN_OR_RETURN(os::FileLock shared,
                     os::FileLock::Acquire(lock_path, os::FileLock::Mode::kShared));
    ASSIGN_OR_RETURN(os::UniqueFd fd,
                     os::Open(log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Err(Error::FromErrno("fstat", log));
    }
    if (st.st_size < max_bytes) {
      // One write(2) on an O_APPEND fd: concurrent writers' lines never interleave.
      return os::WriteAll(fd.get(), line);
    }
  }
  // Full: rotate under the exclusive lock (another writer may have done it meanwhile), then
  // append to the new log.
  ASSIGN_OR_RETURN(os::FileLock exclusive,
                   os::FileLock::Acquire(lock_path, os::FileLock::Mode::kExclusive));
  RETURN_IF_ERROR(RotateIfFull(dir, max_bytes));
  ASSIGN_OR_RETURN(os::UniqueFd fd,
                   os::Open(log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640));
  return os::WriteAll(fd.get(), line);
}

Status AppendEventNow(const std::string& data_dir, EventType type, std::string id, std::string from,
                      std::vector<std::pair<std::string, std::string>> data) {
  Event event;
  event.type = type;
  event.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  event.id = std::move(id);
  event.from = std::move(from);
  event.data = std::move(data);
  return AppendEvent(data_dir, event);
}

}  // namespace comet::pod
