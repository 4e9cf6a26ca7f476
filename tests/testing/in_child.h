// RunInChild: runs a test body in a forked child so that namespace, mount and credential changes
// never leak into the test process. Call from a single-threaded test binary.
#ifndef COMET_TESTING_IN_CHILD_H_
#define COMET_TESTING_IN_CHILD_H_

#include <functional>
#include <string>

namespace comet::testing {

struct ChildOutcome {
  int exit_code = -1;  // -1 when killed
  int signal = 0;
  std::string output;  // what the child wrote to its stdout and stderr
};

// The child runs `body`; its return value is the exit code (0 = pass). Output is captured.
ChildOutcome RunInChild(const std::function<int()>& body);

// True when the process runs as root with CAP_SYS_ADMIN in the initial user namespace.
bool IsRoot();

}  // namespace comet::testing

#endif  // COMET_TESTING_IN_CHILD_H_
