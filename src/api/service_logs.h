// GetLogs' reading side, without gRPC: the lines of one or several apps' CRI logs
// (pod/cri_log.h) merged by time, tailed, filtered by time, optionally followed, and handed out
// in batches. Kept apart from service.cc so that it is unit-testable on log files alone.
// StreamLogs is thread-safe (it shares nothing between calls); it runs a reader thread per log
// while following.
#ifndef COMET_API_SERVICE_LOGS_H_
#define COMET_API_SERVICE_LOGS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "pod/cri_log.h"

namespace comet::api {

struct LogSource {
  std::string app;
  std::string path;  // <pod>/logs/<app>.log; a missing file is an app that has not written yet
};

struct LogQuery {
  std::vector<LogSource> sources{};
  std::optional<std::chrono::system_clock::time_point> since{};  // lines at or after
  std::optional<std::chrono::system_clock::time_point> until{};  // lines before
  int64_t tail = 0;  // the last N lines of all sources together; 0: all (rkt's `lines`)
  bool follow = false;
};

struct LogStreamHooks {
  // Called about every 100 ms while following: false ends the stream once what is written has
  // been sent (the pod is no longer running). Must be thread-safe.
  std::function<bool()> pod_running;
  // True when the client went away: the stream ends at once. Must be thread-safe.
  std::function<bool()> cancelled;
  // Sends one batch (never empty); false when it could not (the client is gone). Called from the
  // calling thread only.
  std::function<bool(std::vector<std::string>& lines)> send;
};

// The most lines and bytes in one batch (one GetLogsResponse): well under the service's
// message size limit, since one line may be 1 MiB (pod::kMaxLogLineContent).
inline constexpr size_t kMaxBatchLines = 512;
inline constexpr size_t kMaxBatchBytes = size_t{1} << 20;
// What one request may hold in memory: the lines of several apps' logs being merged, and the
// tail windows of `lines` (lines can be 1 MiB long). Beyond it the request is refused
// (RESOURCE_EXHAUSTED, ENOMEM here) and should name one app or ask for fewer lines.
inline constexpr size_t kMaxMergeBytes = size_t{64} << 20;
// What all requests together may hold (up to 512 gRPC threads could otherwise each hold
// kMaxMergeBytes): beyond it a request is refused (RESOURCE_EXHAUSTED) until others finish.
inline constexpr size_t kMaxLogsMemory = size_t{256} << 20;
// A follow runs a reader thread per app: a pod with more apps must name one (RESOURCE_EXHAUSTED).
inline constexpr size_t kMaxFollowSources = 32;

// The process-wide budget (kMaxLogsMemory) every request's lines are charged to.
[[nodiscard]] pod::LogMemoryBudget& LogsMemoryBudget();

// Streams the lines of `query` (content only, empty lines left out, as rkt sent them) through
// `hooks.send`. Read errors other than a missing log are returned with the app as context.
[[nodiscard]] Status StreamLogs(const LogQuery& query, const LogStreamHooks& hooks);

}  // namespace comet::api

#endif  // COMET_API_SERVICE_LOGS_H_
