// A one-line progress bar for pulls on a terminal: bytes done of the total, a bar and the
// current rate, redrawn at most ten times a second. Quiet (draws nothing) when disabled, which
// the caller decides from isatty. Thread-safe: events arrive from download threads.
#ifndef COMET_CLI_PROGRESS_BAR_H_
#define COMET_CLI_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "image/registry/pull.h"

namespace comet::cli {

// "Fetching <label>  [=====>     ]  45.3 MB / 200 MB  23.1 MB/s" fitted to `width` columns.
std::string FormatProgressLine(const std::string& label, uint64_t done, uint64_t total,
                               double bytes_per_second, size_t width);

class PullProgressBar {
 public:
  PullProgressBar(int fd, std::string label, bool enabled);
  void OnEvent(const image::registry::PullEvent& event);
  // Draws the final state and ends the line.
  void Finish();

 private:
  void DrawLocked(bool force);

  int fd_;
  std::string label_;
  bool enabled_;
  std::mutex mutex_;
  uint64_t total_ = 0;
  std::map<std::string, uint64_t> blob_done_;
  uint64_t done_ = 0;
  uint64_t resumed_ = 0;  // bytes already present when blobs started: not part of the rate
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace comet::cli

#endif  // COMET_CLI_PROGRESS_BAR_H_
