// Signal parsing for `kill`. The name table is Linux's (signal(7)), aliases included, so that
// whatever an engine or a user passes to runc also works here.
#include "cli/signal.h"

#include <csignal>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::cli {
namespace {

struct SignalName {
  const char* name;  // without "SIG"
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT},  {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},    {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1},  {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},  {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},   {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},  {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},  {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},      {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},     {"UNUSED", SIGSYS},
};

std::string ToUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

// "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n"; nullopt when `name` is not of that form or out of range.
std::optional<int> ParseRealtime(std::string_view name) {
  // SIGRTMIN and SIGRTMAX are glibc function calls (glibc reserves the lowest few real-time
  // signals for itself), so they are read at run time rather than put in the table.
  const int rt_min = SIGRTMIN;
  const int rt_max = SIGRTMAX;
  int base = 0;
  int sign = 0;
  if (StartsWith(name, "RTMIN")) {
    base = rt_min;
    sign = 1;
  } else if (StartsWith(name, "RTMAX")) {
    base = rt_max;
    sign = -1;
  } else {
    return std::nullopt;
  }
  std::string_view rest = name.substr(5);
  if (rest.empty()) {
    return base;
  }
  if (rest[0] != (sign > 0 ? '+' : '-')) {
    return std::nullopt;
  }
  std::optional<unsigned long long> offset = ParseUint(rest.substr(1));
  if (!offset || *offset > static_cast<unsigned long long>(rt_max - rt_min)) {
    return std::nullopt;
  }
  return base + sign * static_cast<int>(*offset);
}

}  // namespace

Result<int> ParseSignal(std::string_view text) {
  if (text.empty()) {
    return Err(Error::Invalid("empty signal"));
  }
  if (text[0] >= '0' && text[0] <= '9') {
    std::optional<unsigned long long> number = ParseUint(text);
    if (!number || *number > static_cast<unsigned long long>(SIGRTMAX)) {
      return Err(Error::Invalid(fmt::format("invalid signal number \"{}\"", text)));
    }
    return static_cast<int>(*number);
  }
  std::string name = ToUpper(text);
  std::string_view bare = name;
  if (StartsWith(bare, "SIG")) {
    bare.remove_prefix(3);
  }
  for (const SignalName& signal : kSignals) {
    if (bare == signal.name) {
      return signal.number;
    }
  }
  if (std::optional<int> realtime = ParseRealtime(bare)) {
    return *realtime;
  }
  return Err(Error::Invalid(fmt::format("unknown signal \"{}\"", text)));
}

}  // namespace comet::cli
