// Pod unit files: rendering with systemd's quoting (systemd.syntax(7) "Quoting",
// systemd.service(5) "Command lines") and the parser that reads them back.
#include "node/unit_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::node {

namespace {

constexpr std::string_view kUnitPrefix = "k8s_";
constexpr std::string_view kUnitSuffix = ".service";
constexpr std::string_view kWhitespace = " \t";

bool IsControl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool HasControl(std::string_view text) {
  return std::ranges::any_of(text, IsControl);
}

// A value systemd reads verbatim after stripping blanks and joining continued lines: it must
// have no control characters, no blanks at its ends and no trailing backslash.
Status CheckRawValue(std::string_view what, std::string_view value) {
  if (HasControl(value)) {
    return Err(
        Error::Invalid(fmt::format("{}: control character in '{}'", what, Printable(value, 80))));
  }
  if (!value.empty() && (kWhitespace.find(value.front()) != std::string_view::npos ||
                         kWhitespace.find(value.back()) != std::string_view::npos)) {
    return Err(Error::Invalid(fmt::format("{}: leading or trailing blank in '{}'", what, value)));
  }
  if (!value.empty() && value.back() == '\\') {
    return Err(Error::Invalid(fmt::format("{}: trailing backslash in '{}'", what, value)));
  }
  return Ok();
}

// Settings that expand specifiers (Description=, SyslogIdentifier=) need '%' doubled.
std::string EscapeSpecifiers(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out += c;
    if (c == '%') {
      out += '%';
    }
  }
  return out;
}

Result<std::string> UnescapeSpecifiers(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    return Err(Error::Invalid(fmt::format("specifier '%{}' is not supported",
                                          i + 1 < value.size() ? value[i + 1] : ' ')));
  }
  return out;
}

Result<std::string> RenderExecLine(const std::vector<std::string>& argv) {
  if (argv.empty()) {
    return Err(Error::Invalid("exec line: no program"));
  }
  if (!StartsWith(argv[0], "/")) {
    // Also keeps systemd's prefixes ("-", "@", "+", "!", ":") out of the first word.
    return Err(Error::Invalid(
        fmt::format("exec line: program '{}' is not an absolute path", Printable(argv[0], 80))));
  }
  if (argv[0].find('$') != std::string::npos) {
    // The program's path is not environment-expanded, so "$$" would stay "$$" there.
    return Err(Error::Invalid(fmt::format("exec line: '$' in program '{}'", argv[0])));
  }
  std::string line;
  for (const std::string& arg : argv) {
    ASSIGN_OR_RETURN(std::string quoted, QuoteExecArg(arg));
    if (!line.empty()) {
      line += ' ';
    }
    line += quoted;
  }
  return line;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// The C escapes of systemd.syntax(7) (cunescape), enough to read back any quoting of a word.
Result<size_t> Unescape(std::string_view text, size_t i, std::string& out) {
  if (i + 1 >= text.size()) {
    return Err(Error::Invalid("exec line: backslash at the end"));
  }
  char c = text[i + 1];
  switch (c) {
    case '\\':
    case '"':
    case '\'':
    case ';':
      out += c;
      return i + 2;
    case 'n':
      out += '\n';
      return i + 2;
    case 't':
      out += '\t';
      return i + 2;
    case 's':
      out += ' ';
      return i + 2;
    case 'x':
      if (i + 3 < text.size()) {
        int high = HexDigit(text[i + 2]);
        int low = HexDigit(text[i + 3]);
        if (high >= 0 && low >= 0 && high * 16 + low > 0) {
          out += static_cast<char>(high * 16 + low);
          return i + 4;
        }
      }
      break;
    default:
      break;
  }
  return Err(Error::Invalid(fmt::format("exec line: unsupported escape '\\{}'", c)));
}

bool IsBlank(char c) {
  return kWhitespace.find(c) != std::string_view::npos;
}

// A wholly quoted word ("..." or '...') from line[i], the opening quote; returns the index after
// the closing quote, which must end the word.
Result<size_t> ReadQuotedWord(std::string_view line, size_t i, std::string& word) {
  char quote = line[i++];
  while (i < line.size() && line[i] != quote) {
    if (line[i] == '\\') {
      ASSIGN_OR_RETURN(i, Unescape(line, i, word));
    } else {
      word += line[i++];
    }
  }
  if (i == line.size()) {
    return Err(Error::Invalid("exec line: unterminated quote"));
  }
  ++i;
  if (i < line.size() && !IsBlank(line[i])) {
    return Err(Error::Invalid("exec line: a closing quote must end the word"));
  }
  return i;
}

// An unquoted word from line[i] up to the next blank.
Result<size_t> ReadBareWord(std::string_view line, size_t i, std::string& word) {
  if (line[i] == ';' && (i + 1 == line.size() || IsBlank(line[i + 1]))) {
    return Err(Error::Invalid("exec line: more than one command"));
  }
  while (i < line.size() && !IsBlank(line[i])) {
    if (line[i] == '\\') {
      ASSIGN_OR_RETURN(i, Unescape(line, i, word));
    } else {
      word += line[i++];
    }
  }
  return i;
}

// systemd's last step, at exec time: "$$" is a '$'; "$VAR" and "${VAR}" are never written by
// RenderUnit and not supported.
Result<std::string> UnescapeDollars(const std::string& word) {
  std::string out;
  for (size_t j = 0; j < word.size(); ++j) {
    if (word[j] == '$') {
      if (j + 1 == word.size() || word[j + 1] != '$') {
        return Err(Error::Invalid(
            fmt::format("exec line: environment variables are not supported in '{}'", word)));
      }
      ++j;
    }
    out += word[j];
  }
  return out;
}

// Splits an exec line (specifiers already unescaped) into words as systemd does: blanks separate
// words, a word may be wholly quoted, backslash escapes apply; then "$$" -> "$".
Result<std::vector<std::string>> SplitExecLine(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  for (;;) {
    while (i < line.size() && IsBlank(line[i])) {
      ++i;
    }
    if (i == line.size()) {
      return words;
    }
    std::string word;
    if (line[i] == '"' || line[i] == '\'') {
      ASSIGN_OR_RETURN(i, ReadQuotedWord(line, i, word));
    } else {
      ASSIGN_OR_RETURN(i, ReadBareWord(line, i, word));
    }
    ASSIGN_OR_RETURN(std::string unescaped, UnescapeDollars(word));
    words.push_back(std::move(unescaped));
  }
}

Result<std::vector<std::string>> ParseExecLine(std::string_view value) {
  ASSIGN_OR_RETURN(std::string line, UnescapeSpecifiers(value));
  ASSIGN_OR_RETURN(std::vector<std::string> argv, SplitExecLine(line));
  if (argv.empty() || !StartsWith(argv[0], "/")) {
    return Err(Error::Invalid(fmt::format("exec line '{}': no absolute program", value)));
  }
  return argv;
}

// touch(1) for ExecStopPost=, where Debian (merged /usr) and older layouts keep it.
std::string TouchProgram() {
  for (const char* path : {"/usr/bin/touch", "/bin/touch"}) {
    if (::access(path, X_OK) == 0) {
      return path;
    }
  }
  return "/usr/bin/touch";
}

bool IsValidKubernetesKey(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  return std::ranges::all_of(key, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Joins continued lines (a trailing backslash; systemd puts a space in its place).
std::vector<std::string> LogicalLines(std::string_view text) {
  std::vector<std::string> out;
  std::string pending;
  bool continued = false;
  for (const std::string& raw : Split(text, '\n')) {
    std::string line(raw);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::string_view trimmed = TrimSpace(line);
    if (!continued && (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';')) {
      continue;
    }
    if (continued) {
      pending += ' ';
    }
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      pending += line;
      continued = true;
      continue;
    }
    pending += line;
    out.push_back(std::move(pending));
    pending.clear();
    continued = false;
  }
  if (continued) {
    out.push_back(std::move(pending));
  }
  return out;
}

Status ApplyServiceSetting(PodUnit& unit, const std::string& key, const std::string& value) {
  if (key == "ExecStart") {
    if (!unit.exec_start.empty()) {
      return Err(Error::Invalid("more than one ExecStart="));
    }
    ASSIGN_OR_RETURN(unit.exec_start, ParseExecLine(value));
  } else if (key == "ExecStopPost") {
    ASSIGN_OR_RETURN(std::vector<std::string> argv, ParseExecLine(value));
    if (argv.size() == 2 && (argv[0] == "/usr/bin/touch" || argv[0] == "/bin/touch")) {
      unit.stop_post_marker = argv[1];
    }
  } else if (key == "TimeoutStopSec") {
    std::string_view number = value;
    if (!number.empty() && number.back() == 's') {
      number.remove_suffix(1);
    }
    std::optional<long long> seconds = ParseInt(number);
    if (!seconds || *seconds < 0) {
      return Err(Error::Invalid(fmt::format("TimeoutStopSec={}: not a number of seconds", value)));
    }
    unit.timeout_stop_sec = *seconds;
  } else if (key == "SyslogIdentifier") {
    ASSIGN_OR_RETURN(unit.syslog_identifier, UnescapeSpecifiers(value));
  }
  return Ok();
}

}  // namespace

std::string UnitName(std::string_view pod_uuid) {
  return fmt::format("{}{}{}", kUnitPrefix, pod_uuid, kUnitSuffix);
}

std::optional<std::string> PodUuidFromUnitName(std::string_view unit_name) {
  if (!StartsWith(unit_name, kUnitPrefix) ||
      unit_name.size() < kUnitPrefix.size() + kUnitSuffix.size() ||
      unit_name.substr(unit_name.size() - kUnitSuffix.size()) != kUnitSuffix) {
    return std::nullopt;
  }
  std::string_view uuid = unit_name.substr(
      kUnitPrefix.size(), unit_name.size() - kUnitPrefix.size() - kUnitSuffix.size());
  if (!IsValidPodUuid(uuid)) {
    return std::nullopt;
  }
  return std::string(uuid);
}

bool IsValidPodUuid(std::string_view uuid) {
  if (uuid.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < uuid.size(); ++i) {
    char c = uuid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') {
        return false;
      }
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

Result<std::string> QuoteExecArg(std::string_view arg) {
  if (HasControl(arg)) {
    return Err(Error::Invalid(fmt::format("exec argument '{}': control characters cannot be passed",
                                          Printable(arg, 80))));
  }
  std::string out = "\"";
  for (char c : arg) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '%':
        out += "%%";
        break;
      case '$':
        out += "$$";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

Result<std::string> RenderUnit(const PodUnit& unit) {
  if (!IsValidPodUuid(unit.pod_uuid)) {
    return Err(Error::Invalid(
        fmt::format("pod unit: '{}' is not a canonical UUID", Printable(unit.pod_uuid, 80))));
  }
  RETURN_IF_ERROR(CheckRawValue("Description", unit.description));
  RETURN_IF_ERROR(CheckRawValue("SyslogIdentifier", unit.syslog_identifier));
  ASSIGN_OR_RETURN(std::string exec_start, RenderExecLine(unit.exec_start));
  std::string text = "[Unit]\n";
  if (!unit.description.empty()) {
    text += fmt::format("Description={}\n", EscapeSpecifiers(unit.description));
  }
  text += "\n[Service]\n";
  text += fmt::format("ExecStart={}\n", exec_start);
  if (!unit.stop_post_marker.empty()) {
    ASSIGN_OR_RETURN(std::string stop_post,
                     RenderExecLine({TouchProgram(), unit.stop_post_marker}));
    text += fmt::format("ExecStopPost={}\n", stop_post);
  }
  // mixed: the pod's supervisor gets SIGTERM and stops its apps itself; whatever is left of the
  // unit when TimeoutStopSec= runs out gets SIGKILL.
  text += "KillMode=mixed\n";
  text += fmt::format("TimeoutStopSec={}s\n", std::max(unit.timeout_stop_sec, kMinTimeoutStopSec));
  if (!unit.syslog_identifier.empty()) {
    text += fmt::format("SyslogIdentifier={}\n", EscapeSpecifiers(unit.syslog_identifier));
  }
  // The agent restarts pods per their restartPolicy, with back-off; systemd must not.
  text += "Restart=no\n";
  if (!unit.kubernetes.empty()) {
    // systemd ignores X- sections (and expands no specifiers there): values are verbatim.
    text += "\n[X-Kubernetes]\n";
    for (const auto& [key, value] : unit.kubernetes) {
      if (!IsValidKubernetesKey(key)) {
        return Err(Error::Invalid(
            fmt::format("[X-Kubernetes]: bad key '{}' (want [A-Za-z0-9-]+)", Printable(key, 80))));
      }
      RETURN_IF_ERROR(CheckRawValue(key, value));
      text += fmt::format("{}={}\n", key, value);
    }
  }
  return text;
}

Result<PodUnit> ParseUnit(std::string_view text) {
  PodUnit unit;
  std::string section;
  for (const std::string& line : LogicalLines(text)) {
    std::string_view trimmed = TrimSpace(line);
    if (trimmed.front() == '[') {
      if (trimmed.back() != ']') {
        return Err(Error::Invalid(fmt::format("unit file: bad section line '{}'", trimmed)));
      }
      section = std::string(trimmed.substr(1, trimmed.size() - 2));
      continue;
    }
    size_t eq = trimmed.find('=');
    if (eq == std::string_view::npos) {
      return Err(
          Error::Invalid(fmt::format("unit file: line without '=': '{}'", Printable(trimmed, 80))));
    }
    std::string key(TrimSpace(trimmed.substr(0, eq)));
    std::string value(TrimSpace(trimmed.substr(eq + 1)));
    if (section == "Unit" && key == "Description") {
      ASSIGN_OR_RETURN(unit.description, UnescapeSpecifiers(value));
    } else if (section == "Service") {
      RETURN_IF_ERROR_CTX(ApplyServiceSetting(unit, key, value), "unit file: [Service] " + key);
    } else if (section == "X-Kubernetes") {
      unit.kubernetes[key] = value;
    }
  }
  if (unit.exec_start.empty()) {
    return Err(Error::Invalid("unit file: no ExecStart="));
  }
  return unit;
}

Status WriteUnit(const std::string& dir, const PodUnit& unit) {
  ASSIGN_OR_RETURN(std::string text, RenderUnit(unit));
  std::string path = os::JoinPath(dir, UnitName(unit.pod_uuid));
  // Not a unit name (systemd skips it on a daemon-reload that races with the write).
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  ::unlink(tmp.c_str());  // a leftover of a crashed writer with a recycled pid
  ASSIGN_OR_RETURN(os::UniqueFd fd, os::Open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  Status st = Ok();
  if (::fchmod(fd.get(), 0644) != 0) {  // whatever the umask
    st = Err(Error::FromErrno("fchmod", tmp));
  }
  if (st) {
    st = os::WriteAll(fd.get(), text);
  }
  if (st && ::fsync(fd.get()) != 0) {
    st = Err(Error::FromErrno("fsync", tmp));
  }
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Err(Error::FromErrno("rename", path));
  }
  if (!st) {
    ::unlink(tmp.c_str());
    return Err(std::move(st).error().AddContext("writing unit " + path));
  }
  return Ok();
}

Result<PodUnit> ReadUnit(const std::string& dir, std::string_view pod_uuid) {
  if (!IsValidPodUuid(pod_uuid)) {
    return Err(
        Error::Invalid(fmt::format("'{}' is not a canonical UUID", Printable(pod_uuid, 80))));
  }
  std::string path = os::JoinPath(dir, UnitName(pod_uuid));
  constexpr size_t kMaxUnitFile = size_t{1} << 20;
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(path, kMaxUnitFile));
  Result<PodUnit> unit = ParseUnit(text);
  if (!unit) {
    return Err(std::move(unit).error().AddContext(path));
  }
  unit->pod_uuid = std::string(pod_uuid);
  return unit;
}

Status RemoveUnit(const std::string& dir, std::string_view pod_uuid) {
  if (!IsValidPodUuid(pod_uuid)) {
    return Err(
        Error::Invalid(fmt::format("'{}' is not a canonical UUID", Printable(pod_uuid, 80))));
  }
  std::string path = os::JoinPath(dir, UnitName(pod_uuid));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err(Error::FromErrno("unlink", path));
  }
  return Ok();
}

}  // namespace comet::node
