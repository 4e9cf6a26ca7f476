// RunInChild.
#include "testing/in_child.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "os/file.h"

namespace comet::testing {

ChildOutcome RunInChild(const std::function<int()>& body) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.output = "pipe2 failed";
    return outcome;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::_exit(body());
  }
  ::close(fds[1]);
  auto out = os::ReadFd(fds[0], 1 << 24);
  ::close(fds[0]);
  outcome.output = out ? *out : "";
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
  return outcome;
}

bool IsRoot() {
  return ::geteuid() == 0;
}

}  // namespace comet::testing
