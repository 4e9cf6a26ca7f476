// RunSubprocess: runs a program to completion with a given argv and environment, feeds it a
// bounded stdin, captures bounded stdout/stderr and kills it (with its process group) after a
// timeout. Used for helper programs such as CNI plugins. Thread-safe (no shared state); the
// caller must not reap children it did not start with waitpid(-1).
#ifndef COMET_OS_SUBPROCESS_H_
#define COMET_OS_SUBPROCESS_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace comet::os {

struct SubprocessOptions {
  std::string program;            // path of the executable (no PATH search)
  std::vector<std::string> argv;  // argv[0] defaults to `program` when empty
  // The whole environment of the child; nullopt inherits the caller's.
  std::optional<std::vector<std::string>> env;
  std::string stdin_data;  // given as a sealed memory file (no pipe, so no SIGPIPE or deadlock)
  size_t max_stdout = size_t{1} << 20;  // bytes kept; the rest is read and dropped
  size_t max_stderr = size_t{64} << 10;
  std::chrono::milliseconds timeout{0};  // 0 = none; on expiry the process group gets SIGKILL
};

struct SubprocessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed it, or 0
  bool timed_out = false;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string stdout_data;
  std::string stderr_data;

  [[nodiscard]] bool Succeeded() const { return exit_code == 0; }
  // "exited with status 3", "killed by signal 9", "timed out after ...".
  [[nodiscard]] std::string Describe() const;
};

// The longest stdin accepted.
inline constexpr size_t kMaxSubprocessStdin = size_t{16} << 20;

// Starts `options.program` in a new process group with default signal dispositions, an empty
// signal mask and only fds 0-2 open, waits for it and returns what it did. An Error means it
// could not be started (ENOENT, EACCES...) or waited for; a non-zero exit is not an Error.
[[nodiscard]] Result<SubprocessResult> RunSubprocess(const SubprocessOptions& options);

}  // namespace comet::os

#endif  // COMET_OS_SUBPROCESS_H_
