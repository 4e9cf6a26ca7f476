// File descriptor helpers for the supervisor's unit tests (app_io_test.cc,
// control_server_test.cc): pipes and the terminal side of a pty. Test-only; thread-safe.
#ifndef COMET_SUPERVISOR_IO_TEST_FIXTURE_H_
#define COMET_SUPERVISOR_IO_TEST_FIXTURE_H_

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>

#include <gtest/gtest.h>

#include "os/unique_fd.h"

namespace comet::testing {

// Opens the terminal of a pty master (ptsname_r: the test binaries have threads).
inline int PtsOpen(int master, int flags) {
  std::array<char, 128> name{};
  if (::ptsname_r(master, name.data(), name.size()) != 0) {
    return -1;
  }
  return ::open(name.data(), flags);
}

// Both ends of a close-on-exec pipe; empty fds (and a test failure) when pipe2 fails.
struct Pipe {
  os::UniqueFd read;
  os::UniqueFd write;
};
inline Pipe MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return {};
  }
  return {os::UniqueFd(fds[0]), os::UniqueFd(fds[1])};
}

}  // namespace comet::testing

#endif  // COMET_SUPERVISOR_IO_TEST_FIXTURE_H_
