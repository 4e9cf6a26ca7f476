// `comet logs`: reads <pod>/logs/<app>.log (CRI format) through pod/cri_log.h. Output keeps the
// streams apart as docker and podman do: stdout records to stdout, stderr records to stderr.
#include "cli/pod_logs.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "base/duration.h"
#include "base/strings.h"
#include "cli/pod_access.h"
#include "os/file.h"
#include "pod/cri_log.h"
#include "pod/pod_dir.h"

namespace comet::cli {
namespace {

using Clock = std::chrono::system_clock;

struct LogSource {
  std::string app;
  std::string path;
};

// Writes lines whole, one at a time (several follower threads share it).
class LinePrinter {
 public:
  LinePrinter(bool prefix, bool timestamps) : prefix_(prefix), timestamps_(timestamps) {}

  Status Print(const std::string& app, const pod::LogLine& line) {
    std::string text;
    if (prefix_) {
      text += app + ": ";
    }
    if (timestamps_) {
      text += line.time_text + " ";
    }
    text += line.content;
    text += '\n';
    const int fd = line.stream == pod::LogStream::kStderr ? STDERR_FILENO : STDOUT_FILENO;
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR_CTX(os::WriteAll(fd, text), "writing the log");
    return Ok();
  }

 private:
  const bool prefix_;
  const bool timestamps_;
  std::mutex mutex_;
};

Result<std::vector<LogSource>> LogSources(const pod::PodEntry& entry,
                                          const pod::PodManifest& manifest,
                                          const std::string& app) {
  std::vector<LogSource> sources;
  if (!app.empty()) {
    ASSIGN_OR_RETURN(std::string name, ChooseApp(manifest, app));
    sources.push_back({name, pod::AppLogPath(entry.path, name)});
    return sources;
  }
  for (const pod::App& one : manifest.apps) {
    sources.push_back({one.name, pod::AppLogPath(entry.path, one.name)});
  }
  return sources;
}

// Reads every source to its end and prints the lines ordered by time (stable: one app's lines
// keep their order).
Status PrintMerged(const std::vector<LogSource>& sources, const pod::LogReadOptions& options,
                   LinePrinter& printer) {
  struct Tagged {
    const std::string* app;
    pod::LogLine line;
  };
  std::vector<Tagged> lines;
  for (const LogSource& source : sources) {
    Status read = pod::ReadLog(source.path, options, [&](const pod::LogLine& line) -> Status {
      lines.push_back({&source.app, line});
      return Ok();
    });
    if (!read && read.error().code() != ENOENT) {  // no file: the app wrote nothing yet
      return Err(std::move(read).error().AddContext(source.app));
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Tagged& a, const Tagged& b) { return a.line.time < b.line.time; });
  for (const Tagged& tagged : lines) {
    RETURN_IF_ERROR(printer.Print(*tagged.app, tagged.line));
  }
  return Ok();
}

// Follows every source in its own thread until the pod has exited and the logs are drained.
Status Follow(const pod::PodStore& store, const std::string& uuid,
              const std::vector<LogSource>& sources, pod::LogReadOptions options,
              LinePrinter& printer) {
  std::atomic<bool> failed{false};
  // Called by each reader when it is at the end of its log. Once the pod is seen gone, one more
  // round is granted, so that what the apps wrote just before the end is printed too.
  auto make_keep_following = [&store, &uuid, &failed]() {
    return [&store, &uuid, &failed, last_round = false]() mutable {
      if (failed.load() || last_round) {
        return false;
      }
      auto entry = store.Refresh(uuid);
      // A pod that is not running (yet) has nothing more to write: as `docker logs -f` on a
      // stopped container, print what there is and end.
      const bool live = entry && entry->state == pod::PodState::kRunning;
      last_round = !live;
      return true;
    };
  };
  std::vector<Status> results(sources.size(), Ok());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < sources.size(); ++i) {
    threads.emplace_back([&, i]() {
      const LogSource& source = sources[i];
      pod::LogReadOptions own = options;
      own.keep_following = make_keep_following();
      results[i] = pod::ReadLog(source.path, own, [&](const pod::LogLine& line) -> Status {
        Status printed = printer.Print(source.app, line);
        if (!printed) {
          failed.store(true);
        }
        return printed;
      });
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!results[i] && results[i].error().code() != ENOENT) {
      return Err(Error(results[i].error()).AddContext(sources[i].app));
    }
  }
  return Ok();
}

}  // namespace

Result<Clock::time_point> ParseSince(const std::string& text, Clock::time_point now) {
  if (auto when = ParseRfc3339(text); when) {
    return *when;
  }
  auto ago = ParseDuration(text);
  if (!ago) {
    return Err(Error::Invalid(
        fmt::format("--since: {:?} is neither a duration (10m) nor an RFC 3339 time", text)));
  }
  return now - std::chrono::duration_cast<Clock::duration>(*ago);
}

Result<int> RunPodLogs(const CometInvocation& in) {
  pod::LogReadOptions options;
  if (!in.pod.since.empty()) {
    ASSIGN_OR_RETURN(options.since, ParseSince(in.pod.since, Clock::now()));
  }
  options.tail_lines = in.pod.tail;
  options.follow = in.pod.follow;
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, ResolvePod(store, in.pod));
  ASSIGN_OR_RETURN(pod::PodManifest manifest, ReadPodManifest(store, entry));
  ASSIGN_OR_RETURN(std::vector<LogSource> sources, LogSources(entry, manifest, in.pod.app));
  LinePrinter printer(sources.size() > 1, in.pod.timestamps);
  if (in.pod.follow) {
    RETURN_IF_ERROR(Follow(store, entry.uuid, sources, options, printer));
  } else {
    RETURN_IF_ERROR(PrintMerged(sources, options, printer));
  }
  return 0;
}

}  // namespace comet::cli
