// comet-supervisor's process setup (stage1): its command line, the inherited pod lock, its own
// stdio moved away from 0-2, signals, then the Supervisor's event loop. Called once by main();
// single-threaded.
#ifndef COMET_SUPERVISOR_SUPERVISOR_MAIN_H_
#define COMET_SUPERVISOR_SUPERVISOR_MAIN_H_

#include <string>
#include <vector>

#include "base/result.h"

namespace comet::supervisor {

struct CommandLine {
  std::string pod_dir;
  std::string data_dir;
  bool debug = false;
  bool remove = false;
  bool foreground = false;
  int ready_fd = -1;
};

// `--pod-dir=ABS --data-dir=ABS [--debug] [--rm] [--foreground] [--ready-fd=N]` (pod-design.md).
[[nodiscard]] Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// Closes every fd from 3 up except `lock_fd` and `ready_fd` (-1: none): the supervisor lives as
// long as its pod, and whatever its caller left open (a shell's `$(...)` pipe) would be held that
// long. Called first thing at start.
void CloseInheritedFds(int lock_fd, int ready_fd);

// Runs the pod; returns the process's exit code.
int SupervisorMain(int argc, char** argv);

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_SUPERVISOR_MAIN_H_
