// Talking to running apps: attach (tty through a pty in the test, and output-only), exec and
// enter (same cgroup and capabilities as the app), logs --follow/--tail/--since/--timestamps.
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <signal.h>

#include <thread>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {

void PodChecks::AttachWithATty() {
  const std::string uuid = RunDetached({"-i", "-t", kImage, "--", "/bin/sh"});
  ASSERT_FALSE(uuid.empty());
  {
    PtyProcess attach({CometBinary(), "--dir=" + data(), "attach", uuid},
                      {"COMET_E2E_MARK=" + marker()});
    ASSERT_TRUE(attach.started());
    attach.Write("echo attached-$((6*7))\r");
    EXPECT_TRUE(attach.ReadUntil("attached-42", 10s)) << attach.transcript();
    attach.Write("tty\r");
    EXPECT_TRUE(attach.ReadUntil("/dev/pts/", 10s))
        << "the app has no tty: " << attach.transcript();
    // ctrl-p ctrl-q detaches; the app runs on.
    attach.Write("\x10\x11");
    EXPECT_EQ(attach.Wait(10s), 0) << attach.transcript();
  }
  EXPECT_EQ(Status(uuid)["state"], "running");
  {
    PtyProcess attach({CometBinary(), "--dir=" + data(), "attach", "--app=busybox", uuid},
                      {"COMET_E2E_MARK=" + marker()});
    attach.Write("echo again-$((1+1))\r");
    EXPECT_TRUE(attach.ReadUntil("again-2", 10s)) << attach.transcript();
    attach.Write("exit 3\r");
    EXPECT_NE(attach.Wait(15s), kStillRunning) << "attach did not end with the app";
  }
  EXPECT_EQ(Comet({"status", "--wait=10s", uuid}).exit_code, 0);
  EXPECT_EQ(Status(uuid)["app-busybox"], "3");
}

void PodChecks::AttachWithoutATty() {
  const std::string uuid =
      RunDetached({"-i", kImage, "--", "/bin/sh", "-c",
                   "while read line; do echo got-$line; [ \"$line\" = quit ] && exit 0; done"});
  ASSERT_FALSE(uuid.empty());
  ProcResult attached = Comet({"attach", uuid}, {.timeout = 15s, .stdin_data = "one\nquit\n"});
  EXPECT_FALSE(attached.timed_out) << attached.Describe();
  EXPECT_TRUE(Contains(attached.out, "got-one")) << attached.Describe();
  EXPECT_TRUE(Contains(attached.out, "got-quit")) << attached.Describe();
  EXPECT_EQ(Comet({"status", "--wait=10s", uuid}).exit_code, 0);

  const std::string ticker =
      RunDetached({kImage, "--", "/bin/sh", "-c",
                   "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done"});
  ProcResult watched = Comet({"attach", "--no-stdin", ticker}, {.timeout = 2s});
  EXPECT_TRUE(Contains(watched.out, "tick-")) << watched.Describe();
  EXPECT_EQ(Status(ticker)["state"], "running") << "killing attach stopped the app";
}

void PodChecks::ExecAndEnterShareTheAppsCgroupAndCaps() {
  const std::string v = HostDir("v");
  const std::string script =
      "cat /proc/self/cgroup > /v/cgroup; grep CapEff /proc/self/status > /v/caps; "
      "grep CapBnd /proc/self/status > /v/bnd; readlink /proc/self/ns/mnt > /v/mnt; " +
      std::string(kSleeper);
  const std::string uuid = RunDetached(
      Concat({HostVolume(v), ShellApp(kApp, script, {"--caps-remove=CAP_NET_RAW,SYS_CHROOT"})}));
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(WaitUntil([&] { return !ReadFileOrEmpty(v + "/mnt").empty(); }));

  ProcResult cgroup = Comet({"exec", uuid, "/bin/cat", "/proc/self/cgroup"});
  EXPECT_EQ(cgroup.exit_code, 0) << cgroup.Describe();
  EXPECT_EQ(cgroup.out, ReadFileOrEmpty(v + "/cgroup"));
  ProcResult caps = Comet({"exec", "--app=busybox", uuid, "/bin/grep", "Cap", "/proc/self/status"});
  EXPECT_EQ(caps.exit_code, 0) << caps.Describe();
  EXPECT_TRUE(Contains(caps.out, ReadFileOrEmpty(v + "/caps"))) << caps.out;
  EXPECT_TRUE(Contains(caps.out, ReadFileOrEmpty(v + "/bnd"))) << caps.out;
  const std::string eff = ReadFileOrEmpty(v + "/caps");
  const uint64_t mask = std::stoull(Trim(eff.substr(eff.find(':') + 1)), nullptr, 16);
  EXPECT_EQ(mask & (1ULL << 13), 0U) << "CAP_NET_RAW not removed: " << eff;
  EXPECT_EQ(mask & (1ULL << 18), 0U) << "CAP_SYS_CHROOT not removed: " << eff;
  EXPECT_NE(mask & (1ULL << 0), 0U) << "CAP_CHOWN is in the default set: " << eff;
  ProcResult mnt = Comet({"exec", uuid, "/bin/readlink", "/proc/self/ns/mnt"});
  EXPECT_EQ(mnt.out, ReadFileOrEmpty(v + "/mnt")) << "exec not in the app's mount namespace";
  // Exit codes, environment and working directory.
  EXPECT_EQ(Comet({"exec", uuid, "/bin/sh", "-c", "exit 6"}).exit_code, 6);
  ProcResult env = Comet({"exec", "--env=EXTRA=1", "--workdir=/tmp", uuid, "/bin/sh", "-c",
                          "echo extra=$EXTRA pwd=$(pwd) mark=$COMET_E2E_MARK"});
  EXPECT_TRUE(Contains(env.out, "extra=1 pwd=/tmp mark=" + marker())) << env.Describe();
  ProcResult user = Comet({"exec", "--user=65534", uuid, "/bin/id", "-u"});
  EXPECT_EQ(Trim(user.out), "65534") << user.Describe();
  ProcResult stdin_exec = Comet({"exec", "-i", uuid, "/bin/cat"}, {.stdin_data = "piped\n"});
  EXPECT_EQ(stdin_exec.out, "piped\n") << stdin_exec.Describe();

  // enter: a command (and /bin/sh by default) in the same place.
  ProcResult enter = Comet({"enter", uuid, "/bin/cat", "/proc/self/cgroup"});
  EXPECT_EQ(enter.exit_code, 0) << enter.Describe();
  EXPECT_EQ(enter.out, ReadFileOrEmpty(v + "/cgroup"));
  ProcResult enter_sh =
      Comet({"enter", "--app=busybox", uuid}, {.stdin_data = "echo in-$((2*3))\n"});
  EXPECT_TRUE(Contains(enter_sh.out, "in-6")) << enter_sh.Describe();
  ProcResult exec_pty = Comet({"exec", "-t", uuid, "/bin/tty"});
  (void)exec_pty;  // -t without a terminal: either an error or a pty; must not hang
  EXPECT_FALSE(exec_pty.timed_out);

  // A missing command: clear error, no leftover.
  ProcResult missing = Comet({"exec", uuid, "/no/such/binary"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(missing.err.empty());
  EXPECT_EQ(Status(uuid)["state"], "running");
}

namespace {

using Interact = PodChecks;

TEST_F(Interact, AttachWithATty) {
  AttachWithATty();
}

TEST_F(Interact, AttachWithoutStdinSeesOutputAndStdinReachesTheApp) {
  AttachWithoutATty();
}

TEST_F(Interact, ExecAndEnterShareTheAppsCgroupAndCaps) {
  ExecAndEnterShareTheAppsCgroupAndCaps();
}

TEST_F(Interact, LogsTailSinceFollowAndTimestamps) {
  const std::string v = HostDir("v");
  const std::string script =
      "for i in 1 2 3 4 5; do echo line-$i; done; "
      "while [ ! -e /v/go ]; do sleep 0.05; done; echo late-line; " +
      std::string(kSleeper);
  const std::string uuid = RunDetached(Concat({HostVolume(v), ShellApp(kApp, script)}));
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(WaitUntil([&] { return Contains(ReadFileOrEmpty(LogFile(uuid, kApp)), "line-5"); }))
      << ReadFileOrEmpty(LogFile(uuid, kApp));

  ProcResult all = Comet({"logs", uuid});
  EXPECT_EQ(all.out, "line-1\nline-2\nline-3\nline-4\nline-5\n") << all.Describe();
  ProcResult tail = Comet({"logs", "--tail=2", uuid});
  EXPECT_EQ(tail.out, "line-4\nline-5\n") << tail.Describe();
  ProcResult stamped = Comet({"logs", "--timestamps", "--tail=1", uuid});
  const std::string first_word = stamped.out.substr(0, stamped.out.find(' '));
  EXPECT_TRUE(LooksLikeRfc3339(first_word)) << stamped.Describe();

  Background follow({CometBinary(), "--dir=" + data(), "logs", "--follow", uuid},
                    {"COMET_E2E_MARK=" + marker()}, tmp() + "/follow.out");
  EXPECT_TRUE(WaitUntil([&] { return Contains(follow.Output(), "line-5"); }, 10s))
      << follow.Output();
  EXPECT_TRUE(follow.Running()) << "--follow ended early: " << follow.Output();
  WriteFileOrDie(v + "/go", "");
  EXPECT_TRUE(WaitUntil([&] { return Contains(follow.Output(), "late-line"); }, 10s))
      << "--follow did not see a new line: " << follow.Output();

  // --since: from the late line's own time, only it; a relative duration: everything.
  std::string late_time;
  for (const std::string& line : Lines(ReadFileOrEmpty(LogFile(uuid, kApp)))) {
    if (Contains(line, "late-line")) {
      late_time = line.substr(0, line.find(' '));
    }
  }
  ASSERT_FALSE(late_time.empty());
  EXPECT_EQ(Ok({"logs", "--since=" + late_time, uuid}), "late-line\n");
  EXPECT_TRUE(Contains(Ok({"logs", "--since=1h", uuid}), "line-1\n"));
  EXPECT_EQ(Ok({"logs", "--since=2099-01-01T00:00:00Z", uuid}), "");

  // The pod's end ends --follow.
  EXPECT_EQ(Comet({"stop", uuid}).exit_code, 0);
  EXPECT_NE(follow.Wait(10s), kStillRunning) << "--follow outlived the pod";
}

}  // namespace
}  // namespace comet::e2e::pod
