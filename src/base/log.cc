// Logging sink. One write(2) per record, so concurrent writers never interleave within a line.
#include "base/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>
#include <utility>

#include "base/strings.h"

namespace comet::log {
namespace {

Options& Mutable() {
  static Options options;
  return options;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void Configure(Options options) {
  Mutable() = std::move(options);
}

const Options& Current() {
  return Mutable();
}

void Write(Level level, std::string_view message) {
  const Options& options = Current();
  if (level < options.min_level) {
    return;
  }
  std::string line;
  if (options.format == Format::kJson) {
    line = fmt::format(R"({{"level":"{}","msg":{},"time":"{}"}})", LevelName(level),
                       JsonQuote(message), FormatRfc3339Nano(std::chrono::system_clock::now()));
  } else {
    line =
        fmt::format("{}: {}{}", options.program,
                    level == Level::kError ? "" : fmt::format("{}: ", LevelName(level)), message);
  }
  line += '\n';
  // A failed log write has nowhere to be reported; dropping the record is the only option.
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(options.fd, data, left);
    if (n <= 0) {
      break;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace comet::log
