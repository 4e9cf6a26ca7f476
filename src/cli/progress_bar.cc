// The pull progress bar.
#include "cli/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "cli/image_format.h"
#include "os/file.h"

namespace comet::cli {
namespace {

size_t TerminalWidth(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20) {
    return size.ws_col;
  }
  return 80;
}

}  // namespace

std::string FormatProgressLine(const std::string& label, uint64_t done, uint64_t total,
                               double bytes_per_second, size_t width) {
  std::string numbers =
      total > 0 ? fmt::format("{} / {}", HumanSize(done), HumanSize(total)) : HumanSize(done);
  numbers +=
      fmt::format("  {}/s", HumanSize(static_cast<uint64_t>(std::max(0.0, bytes_per_second))));
  std::string head = "Fetching " + label;
  // Room for the bar: width minus head, numbers, brackets and spacing.
  const size_t fixed = head.size() + numbers.size() + 6;
  size_t bar_width = width > fixed ? std::min<size_t>(width - fixed, 40) : 0;
  if (bar_width < 10) {
    bar_width = 0;
    const size_t keep = width > numbers.size() + 14 ? width - numbers.size() - 14 : 0;
    if (head.size() > keep) {
      head = head.substr(0, keep) + "…";
    }
  }
  std::string bar;
  if (bar_width > 0) {
    const double fraction =
        total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0.0;
    const auto filled = static_cast<size_t>(fraction * static_cast<double>(bar_width));
    bar = "[" + std::string(filled, '=') + (filled < bar_width ? ">" : "") +
          std::string(bar_width - std::min(bar_width, filled + 1), ' ') + "]";
  }
  return bar.empty() ? fmt::format("{}  {}", head, numbers)
                     : fmt::format("{}  {}  {}", head, bar, numbers);
}

PullProgressBar::PullProgressBar(int fd, std::string label, bool enabled)
    : fd_(fd), label_(std::move(label)), enabled_(enabled) {}

void PullProgressBar::OnEvent(const image::registry::PullEvent& event) {
  if (!enabled_) {
    return;
  }
  using Kind = image::registry::PullEvent::Kind;
  std::lock_guard<std::mutex> lock(mutex_);
  switch (event.kind) {
    case Kind::kResolved:
      total_ = event.total;
      break;
    case Kind::kBlobStarted:
      resumed_ += event.done;
      [[fallthrough]];
    case Kind::kBlobProgress:
    case Kind::kBlobDone: {
      uint64_t& blob = blob_done_[event.digest];
      if (event.kind == Kind::kBlobDone && event.total > 0) {
        blob = std::max(blob, event.total);
      } else {
        blob = std::max(blob, event.done);
      }
      done_ = 0;
      for (const auto& [digest, bytes] : blob_done_) {
        done_ += bytes;
      }
      break;
    }
    case Kind::kLayerUnpacked:
    case Kind::kDone:
      break;
  }
  DrawLocked(false);
}

void PullProgressBar::Finish() {
  if (!enabled_) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (total_ > 0) {
    done_ = std::max(done_, total_);
  }
  DrawLocked(true);
  (void)os::WriteAll(fd_, "\n");
}

void PullProgressBar::DrawLocked(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const uint64_t fresh = done_ > resumed_ ? done_ - resumed_ : 0;
  const double rate = seconds > 0.05 ? static_cast<double>(fresh) / seconds : 0.0;
  const size_t width = TerminalWidth(fd_);
  const std::string line = FormatProgressLine(label_, done_, total_, rate, width - 1);
  // \r and erase-to-end-of-line redraw in place.
  (void)os::WriteAll(fd_, "\r" + line + "\x1b[K");
}

}  // namespace comet::cli
