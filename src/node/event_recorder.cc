// EventRecorder and the events files (see event_recorder.h).
#include "node/event_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "os/file.h"

namespace comet::node {
namespace {

// A file grows by appends and is cut back to the newest events past this size.
constexpr off_t kMaxFileBytes = off_t{512} * 1024;
constexpr size_t kMaxLineBytes = size_t{8} * 1024;
constexpr size_t kMaxMessageChars = 2000;

// A name part of a file name: what a Kubernetes name may hold ([a-z0-9.-]), anything else
// (never in a valid name) as '-', so that no name can leave the directory or clash on '_'.
std::string FileNamePart(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 253)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || (c == '.' && !out.empty());
    out += ok ? c : '-';
  }
  return out.empty() ? "-" : out;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string EventsFile(std::string_view dir, std::string_view namespace_name,
                       std::string_view name) {
  return os::JoinPath(dir, FileNamePart(namespace_name) + "_" + FileNamePart(name) + ".jsonl");
}

std::string EventToJsonLine(const Event& event) {
  json::OrderedJson line;
  line["type"] = ValidUtf8(event.type);
  line["reason"] = ValidUtf8(event.reason);
  line["message"] = ValidUtf8(event.message);
  line["timeNs"] = event.time_ns;
  line["from"] = ValidUtf8(event.from);
  return json::Dump(line, -1) + "\n";
}

Result<Event> EventFromJsonLine(std::string_view line) {
  if (json::TooDeepAt(line, 4)) {
    return Err(Error::Invalid("event: nested too deep"));
  }
  auto parsed = json::Parse(line);
  if (!parsed) {
    return Err(Error::Invalid("event: " + parsed.error().reason));
  }
  RETURN_IF_ERROR(json::ExpectObject(*parsed, "", json::Wording::kNamesType));
  Event event;
  json::ObjectReader reader(*parsed, "");
  RETURN_IF_ERROR(reader.Read("type", &event.type));
  RETURN_IF_ERROR(reader.Read("reason", &event.reason));
  RETURN_IF_ERROR(reader.Read("message", &event.message));
  RETURN_IF_ERROR(reader.Read("timeNs", &event.time_ns));
  RETURN_IF_ERROR(reader.Read("from", &event.from));
  return event;
}

Result<std::vector<Event>> ReadEvents(std::string_view dir, std::string_view namespace_name,
                                      std::string_view name) {
  const std::string path = EventsFile(dir, namespace_name, name);
  auto text = os::ReadFileLimited(path, 4 * static_cast<size_t>(kMaxFileBytes));
  if (!text) {
    if (text.error().code() == ENOENT) {
      return std::vector<Event>{};
    }
    return Err(std::move(text).error());
  }
  std::vector<Event> events;
  for (const std::string& line : Split(*text, '\n')) {
    if (line.empty() || line.size() > kMaxLineBytes) {
      continue;
    }
    if (auto event = EventFromJsonLine(line)) {
      events.push_back(std::move(*event));
    }
  }
  return events;
}

void EventRecorder::Record(const std::string& namespace_name, const std::string& name,
                           std::string_view type, std::string_view reason,
                           const std::string& message) {
  Event event;
  event.type = std::string(type);
  event.reason = std::string(reason);
  event.message = Printable(message, kMaxMessageChars);
  event.time_ns = NowNs();
  event.from = kEventSource;
  log::Info("event {}/{}: {} {}: {}", namespace_name, name, event.type, event.reason,
            event.message);
  const std::string path = EventsFile(dir_, namespace_name, name);
  const std::string line = EventToJsonLine(event);

  std::lock_guard lock(mu_);
  std::deque<Event>& events = events_[path];
  events.push_back(std::move(event));
  while (events.size() > max_per_pod_) {
    events.pop_front();
  }
  Status written = os::MkdirAll(dir_, 0700);
  struct stat st {};
  if (written && ::stat(path.c_str(), &st) == 0 && st.st_size > kMaxFileBytes) {
    // Cut back to what is in memory (the newest events), replacing the file whole.
    std::string text;
    for (const Event& kept : events) {
      text += EventToJsonLine(kept);
    }
    written = os::ReplaceFile(path, text, 0600);
  } else if (written) {
    auto fd = os::Open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    written = fd ? os::WriteAll(fd->get(), line) : Status(Err(std::move(fd).error()));
  }
  if (!written && !warned_) {
    warned_ = true;
    log::Warning("events of {}/{}: {} (events are kept in memory only)", namespace_name, name,
                 written.error().ToString());
  }
}

std::vector<Event> EventRecorder::Events(const std::string& namespace_name,
                                         const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = events_.find(EventsFile(dir_, namespace_name, name));
  if (it == events_.end()) {
    return {};
  }
  return {it->second.begin(), it->second.end()};
}

void EventRecorder::Forget(const std::string& namespace_name, const std::string& name) {
  const std::string path = EventsFile(dir_, namespace_name, name);
  std::lock_guard lock(mu_);
  events_.erase(path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    log::Warning("{}", Error::FromErrno("unlink", path).ToString());
  }
}

}  // namespace comet::node
