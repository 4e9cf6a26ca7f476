// Exec: runs a command as a child process with a timeout, its stdout and stderr captured in
// memfds (so that a container inheriting them never blocks the test on a pipe). Not thread-safe.
#ifndef COMET_TESTS_E2E_SUBPROCESS_H_
#define COMET_TESTS_E2E_SUBPROCESS_H_

#include <chrono>
#include <string>
#include <vector>

namespace comet::e2e {

struct ProcResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  // "exit 1, stderr: ..." for assertion messages.
  [[nodiscard]] std::string Describe() const;
  [[nodiscard]] bool ok() const { return exit_code == 0; }
};

struct ProcOptions {
  std::chrono::milliseconds timeout{60000};
  // fds kept open in the child at the same numbers (for --preserve-fds).
  std::vector<int> pass_fds{};
  // Extra "KEY=VALUE" entries added to the inherited environment.
  std::vector<std::string> env{};
  std::string stdin_data{};
  // When set, stdout/stderr go to this file (appended) instead of a memfd: for `create` and
  // `run --detach`, whose container keeps writing after the runtime exits.
  std::string output_path{};
};

ProcResult Exec(const std::vector<std::string>& argv, const ProcOptions& options = {});

// Reads a whole file; "" when it is missing.
std::string ReadFileOrEmpty(const std::string& path);
// Writes a file (truncating); aborts the test process on failure.
void WriteFileOrDie(const std::string& path, const std::string& data, unsigned mode = 0644);

}  // namespace comet::e2e

#endif  // COMET_TESTS_E2E_SUBPROCESS_H_
