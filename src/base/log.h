// Process-wide logging: text or JSON lines to stderr or to a file (runc's --log/--log-format).
// Configure once in main() before starting threads; Log() itself is safe from any thread.
#ifndef COMET_BASE_LOG_H_
#define COMET_BASE_LOG_H_

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace comet::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Format { kText, kJson };

struct Options {
  Level min_level = Level::kWarning;
  Format format = Format::kText;
  // Written to this fd (not owned). Defaults to stderr.
  int fd = 2;
  // Prefix of text lines, e.g. "comet-runtime".
  std::string program = "comet";
};

void Configure(Options options);
const Options& Current();

// Writes one record. JSON records are {"level":..,"msg":..,"time":..} like runc's, which
// conmon and podman read back to report a runtime's failure.
void Write(Level level, std::string_view message);

template <class... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Current().min_level <= Level::kDebug) {
    Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Current().min_level <= Level::kInfo) {
    Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void Warning(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace comet::log

#endif  // COMET_BASE_LOG_H_
