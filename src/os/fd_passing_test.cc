#include "os/fd_passing.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "os/unique_fd.h"

namespace comet::os {
namespace {

TEST(FdPassingTest, PassesDataAndAnFdThatArrivesCloseOnExec) {
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), 0);
  UniqueFd left(sockets[0]);
  UniqueFd right(sockets[1]);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  ASSERT_EQ(SendWithFd(left.get(), "hello", 5, write_end.get()), 0);
  char buffer[16] = {};
  int received = -1;
  ASSERT_EQ(ReceiveWithFd(right.get(), buffer, sizeof(buffer), &received), 5);
  UniqueFd passed(received);
  EXPECT_STREQ(buffer, "hello");
  ASSERT_TRUE(passed.valid());
  EXPECT_NE(::fcntl(passed.get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(passed.get(), "x", 1), 1);
  char byte = 0;
  ASSERT_EQ(::read(read_end.get(), &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST(FdPassingTest, NoFdAndEndOfStream) {
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), 0);
  UniqueFd left(sockets[0]);
  UniqueFd right(sockets[1]);
  ASSERT_EQ(SendWithFd(left.get(), "a", 1, -1), 0);
  char buffer[4];
  int received = 7;
  EXPECT_EQ(ReceiveWithFd(right.get(), buffer, sizeof(buffer), &received), 1);
  EXPECT_EQ(received, -1);
  left.Reset();
  EXPECT_EQ(ReceiveWithFd(right.get(), buffer, sizeof(buffer), &received), 0);
  EXPECT_EQ(SendWithFd(right.get(), "a", 1, -1), -EPIPE);
}

}  // namespace
}  // namespace comet::os
