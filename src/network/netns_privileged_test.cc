// Root tests for pinned network namespaces. Each body runs in a forked child that unshares its
// network and mount namespaces, so the host's network and mounts are never touched.
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "network/netns.h"
#include "network/privileged_test_env.h"
#include "os/file.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::network {
namespace {

ino_t NetnsInode(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// True when `lo` is up in the netns pinned at `path` (checked in a forked child).
bool LoopbackUpIn(const std::string& path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    auto fd = OpenNetns(path);
    if (!fd || !EnterNetns(fd->get())) {
      ::_exit(2);
    }
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq req{};
    std::strcpy(req.ifr_name, "lo");
    ::_exit(::ioctl(sock, SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_UP) != 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(NetnsPrivileged, CreateEnterRemove) {
  if (!testing::IsRoot()) {
    GTEST_SKIP() << "needs root";
  }
  auto outcome = testing::RunInChild([] {
    auto env = TestNetworkEnv::Create();
    if (!env) {
      (void)std::fprintf(stderr, "%s\n", env.error().ToString().c_str());
      return 1;
    }
    std::string pin = env->netns_dir() + "/pod-a";
    ino_t before = NetnsInode("/proc/self/ns/net");
    CHILD_OK(CreatePinnedNetns(pin));
    CHILD_CHECK(NetnsInode("/proc/self/ns/net") == before);  // the caller stayed where it was
    CHILD_CHECK(IsNetnsPin(pin));
    CHILD_CHECK(NetnsInode(pin.c_str()) != before);
    CHILD_CHECK(LoopbackUpIn(pin));
    CHILD_CHECK(!CreatePinnedNetns(pin));  // exists already
    CHILD_CHECK(IsNetnsPin(pin));
    CHILD_OK(RemovePinnedNetns(pin));
    CHILD_CHECK(!IsNetnsPin(pin));
    CHILD_CHECK(!os::Exists(pin));
    CHILD_OK(RemovePinnedNetns(pin));  // idempotent
    CHILD_CHECK(!OpenNetns("/proc/self/status"));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// The pin dir is shared: a mount namespace copied from ours sees pins made later, and loses
// pins we remove (so the netns really goes away).
TEST(NetnsPrivileged, PinsPropagateToCopiedMountNamespaces) {
  if (!testing::IsRoot()) {
    GTEST_SKIP() << "needs root";
  }
  auto outcome = testing::RunInChild([] {
    auto env = TestNetworkEnv::Create();
    if (!env) {
      (void)std::fprintf(stderr, "%s\n", env.error().ToString().c_str());
      return 1;
    }
    std::string early = env->netns_dir() + "/early";
    std::string late = env->netns_dir() + "/late";
    CHILD_OK(CreatePinnedNetns(early));
    int go[2];
    int ready[2];
    CHILD_CHECK(::pipe2(go, O_CLOEXEC) == 0 && ::pipe2(ready, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      char c = 0;
      if (::unshare(CLONE_NEWNS) != 0 || !IsNetnsPin(early) || ::write(ready[1], "r", 1) != 1 ||
          ::read(go[0], &c, 1) != 1) {
        ::_exit(2);
      }
      ::_exit(!IsNetnsPin(early) && IsNetnsPin(late) ? 0 : 3);
    }
    char c = 0;
    CHILD_CHECK(::read(ready[0], &c, 1) == 1);
    CHILD_OK(RemovePinnedNetns(early));
    CHILD_OK(CreatePinnedNetns(late));
    CHILD_CHECK(::write(go[1], "g", 1) == 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHILD_OK(RemovePinnedNetns(late));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::network
