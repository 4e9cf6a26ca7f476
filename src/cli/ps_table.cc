// `ps` table support: running ps(1) and filtering its rows to the container's pids.
#include "cli/ps_table.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"

namespace comet::cli {
namespace {

// ps output for a whole host fits easily; the cap only guards against a runaway child.
constexpr size_t kMaxPsOutput = size_t{64} << 20;

// Splits on runs of blanks, like Go's strings.Fields (ps pads its columns with spaces).
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (true) {
    size_t begin = line.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) {
      return fields;
    }
    size_t end = line.find_first_of(" \t", begin);
    fields.push_back(line.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) {
      return fields;
    }
    pos = end;
  }
}

// Returns the wait status of `pid`.
Result<int> WaitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Err(Error::FromErrno("waitpid", "ps"));
    }
  }
  return status;
}

}  // namespace

Result<std::string> FilterPsOutput(std::string_view ps_output, const std::vector<pid_t>& pids) {
  std::vector<std::string> lines = Split(ps_output, '\n');
  std::vector<std::string_view> header = Fields(lines.front());
  auto pid_column = std::find(header.begin(), header.end(), "PID");
  if (pid_column == header.end()) {
    return Err(Error::Invalid("no PID column in the output of ps"));
  }
  const size_t index = static_cast<size_t>(pid_column - header.begin());
  std::string out = lines.front() + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string_view> fields = Fields(lines[i]);
    if (fields.empty()) {
      continue;
    }
    std::optional<long long> pid =
        index < fields.size() ? ParseInt(fields[index]) : std::optional<long long>();
    if (!pid) {
      return Err(
          Error::Invalid(fmt::format("ps output line {}: no pid in column {}", i + 1, index + 1)));
    }
    if (std::find(pids.begin(), pids.end(), *pid) != pids.end()) {
      out += lines[i];
      out += '\n';
    }
  }
  return out;
}

Result<std::string> RunPs(const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Err(Error::FromErrno("pipe2"));
  }
  os::UniqueFd read_end(pipe_fds[0]);
  os::UniqueFd write_end(pipe_fds[1]);

  std::vector<char*> argv;
  std::string program = "ps";
  argv.push_back(program.data());
  std::vector<std::string> owned = args;  // posix_spawnp takes char* const[]
  for (std::string& arg : owned) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears O_CLOEXEC on the copies, so only stdout/stderr reach ps.
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Err(Error::FromCode(rc, "running", "ps"));
  }
  write_end.Reset();
  Result<std::string> output = os::ReadFd(read_end.get(), kMaxPsOutput);
  ASSIGN_OR_RETURN(int status, WaitChild(pid));
  if (!output) {
    return Err(std::move(output).error().AddContext("reading the output of ps"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(
        Error::Invalid(fmt::format("ps {} failed: {}", Join(args, " "), TrimSpace(*output))));
  }
  return output;
}

std::string FormatPidsJson(const std::vector<pid_t>& pids) {
  std::string out = "[";
  for (size_t i = 0; i < pids.size(); ++i) {
    out += fmt::format("{}{}", i > 0 ? "," : "", pids[i]);
  }
  out += "]\n";
  return out;
}

}  // namespace comet::cli
