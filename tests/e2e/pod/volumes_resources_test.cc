// Volumes (host rw/ro in rkt and podman syntax, empty on disk shared between apps, memory =
// tmpfs mounted in one app), --readonly-rootfs, --user/--group, --caps-retain/--caps-remove and
// per-app resources (--memory, --cpu, --cpu-shares, --pids-limit in the app's v1
// cgroup; --oom-score-adj, clamped at the current value without CAP_SYS_RESOURCE).
// Bodies that the Rootless* tests run too are PodChecks members (pod_checks.h).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

// The capability mask of a "CapEff:\t000001ff..." line in `status` (/proc/PID/status); -1 when
// the line is missing.
int64_t CapMask(const std::string& status, const std::string& field) {
  for (const std::string& line : Lines(status)) {
    if (line.rfind(field + ":", 0) == 0) {
      return static_cast<int64_t>(std::stoull(Trim(line.substr(field.size() + 1)), nullptr, 16));
    }
  }
  return -1;
}

}  // namespace

void PodChecks::HostVolumesReadWriteAndReadOnly() {
  const std::string rw = HostDir("rw");
  const std::string ro = HostDir("ro");
  const std::string short_ro = HostDir("short-ro");
  WriteFileOrDie(rw + "/in", "to-the-app\n");
  WriteFileOrDie(ro + "/data", "read-only-data\n");
  WriteFileOrDie(short_ro + "/data", "short-data\n");
  const std::string script =
      "cat /rw/in > /rw/out; "
      "if echo x > /ro/try 2>/dev/null; then echo ro-writable; else echo ro-refused; fi; "
      "if echo x > /short/try 2>/dev/null; then echo short-writable; else echo short-refused; "
      "fi; cat /ro/data /short/data";
  ProcResult r =
      Comet({"run", "--volume=rw,kind=host,source=" + rw, "--volume=ro,kind=host,source=" + ro,
             "--volume", short_ro + ":/short:ro", "--mount=volume=rw,target=/rw", kImage,
             "--mount=volume=ro,target=/ro,readOnly=true", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ReadFileOrEmpty(rw + "/out"), "to-the-app\n");
  EXPECT_TRUE(Contains(r.out, "ro-refused")) << r.out;
  EXPECT_TRUE(Contains(r.out, "short-refused")) << r.out;
  EXPECT_TRUE(Contains(r.out, "read-only-data")) << r.out;
  EXPECT_TRUE(Contains(r.out, "short-data")) << r.out;
  EXPECT_EQ(ReadFileOrEmpty(ro + "/try"), "");
  EXPECT_EQ(ReadFileOrEmpty(short_ro + "/try"), "");
}

void PodChecks::EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs() {
  const std::string writer_script =
      "echo from-writer > /shared/msg; echo mem-data > /mem/x; "
      "echo writer-mode=$(stat -c %a /shared); grep ' /mem ' /proc/mounts";
  const std::string reader_script =
      "i=0; until [ -e /shared/msg ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done; "
      "echo reader-got=$(cat /shared/msg); [ -e /mem ] || echo reader-mem-absent; "
      "grep -q ' /shared ' /proc/mounts && echo reader-has-shared";
  ProcResult r = Comet(Concat(
      {{"run", "--volume=shared,kind=empty,mode=0750",
        "--volume=mem,kind=empty,medium=memory,size=8M", "--mount=volume=shared,target=/shared"},
       ShellApp("writer", writer_script, {"--mount=volume=mem,target=/mem"}),
       {"---"},
       ShellApp("reader", reader_script)}));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "reader-got=from-writer")) << r.out;
  EXPECT_TRUE(Contains(r.out, "writer-mode=750")) << r.out;
  EXPECT_TRUE(Contains(r.out, "tmpfs /mem tmpfs")) << "memory volume is not tmpfs: " << r.out;
  EXPECT_TRUE(Contains(r.out, "size=8192k")) << r.out;
  // The disk volume lives in the pod dir; the memory one does not.
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string pod = data() + "/pods/" + PodDirs()[0];
  EXPECT_EQ(ReadFileOrEmpty(pod + "/volumes/shared/msg"), "from-writer\n");
  EXPECT_TRUE(Contains(r.out, "reader-mem-absent")) << "/mem was mounted in the writer only";
}

void PodChecks::ReadOnlyRootfsAndWorkingDirAndUser() {
  const std::string script =
      "echo pwd=$(pwd) id=$(id -u):$(id -g); "
      "if touch /etc/x 2>/dev/null; then echo root-writable; "
      "else echo root-refused; fi";
  ProcResult r = Comet({"run", kImage, "--readonly-rootfs", "--working-dir=/tmp", "--user=65534",
                        "--group=65534", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "pwd=/tmp id=65534:65534")) << r.out;
  EXPECT_TRUE(Contains(r.out, "root-refused")) << r.out;
}

// --caps-retain keeps only the named capabilities (effective and bounding), --caps-remove drops
// them from the default set; a chown shows the difference.
void PodChecks::CapsRetainAndRemove() {
  const std::string script =
      "grep Cap /proc/self/status; touch /tmp/f; "
      "if chown 65534 /tmp/f 2>/dev/null; then echo chown-ok; else echo chown-refused; fi";
  ProcResult retain =
      Comet({"run", kImage, "--caps-retain=CAP_KILL,CAP_CHOWN", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(retain.exit_code, 0) << retain.Describe();
  EXPECT_EQ(CapMask(retain.out, "CapEff"), 0x21) << retain.out;
  EXPECT_EQ(CapMask(retain.out, "CapBnd"), 0x21) << retain.out;
  EXPECT_TRUE(Contains(retain.out, "chown-ok")) << retain.out;
  ProcResult remove =
      Comet({"run", kImage, "--caps-remove=CAP_CHOWN", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(remove.exit_code, 0) << remove.Describe();
  const int64_t eff = CapMask(remove.out, "CapEff");
  EXPECT_EQ(eff & 0x1, 0) << "CAP_CHOWN not removed: " << remove.out;
  EXPECT_NE(eff & 0x20, 0) << "CAP_KILL is in the default set: " << remove.out;
  EXPECT_TRUE(Contains(remove.out, "chown-refused")) << remove.out;
}

// Raising works; lowering below the current value needs CAP_SYS_RESOURCE in the initial user
// namespace, which root lacks on this machine and a rootless pod never has: clamped, with a
// warning. Out of range: refused.
namespace {

// Whether this process may lower its oom_score_adj: CAP_SYS_RESOURCE (bit 24 of CapEff) held in
// the initial user namespace (the identity uid_map).
bool MayLowerOomScore() {
  const std::string status = ReadFileOrEmpty("/proc/self/status");
  const size_t at = status.find("CapEff:");
  if (at == std::string::npos) {
    return false;
  }
  const uint64_t caps = std::stoull(status.substr(at + 7, 24), nullptr, 16);
  std::istringstream map(ReadFileOrEmpty("/proc/self/uid_map"));
  uint64_t inside = 1;
  uint64_t outside = 1;
  uint64_t count = 0;
  map >> inside >> outside >> count;
  return (caps & (uint64_t{1} << 24)) != 0 && inside == 0 && outside == 0 && count == 4294967295U;
}

}  // namespace

void PodChecks::OomScoreAdj() {
  const int current = std::stoi(ReadFileOrEmpty("/proc/self/oom_score_adj"));
  const int lowest = MayLowerOomScore() ? -500 : std::max(current, -500);
  ProcResult up =
      Comet({"run", kImage, "--oom-score-adj=500", "--", "/bin/cat", "/proc/self/oom_score_adj"});
  EXPECT_EQ(up.exit_code, 0) << up.Describe();
  EXPECT_EQ(Trim(up.out), "500");
  // Lower than the current value needs CAP_SYS_RESOURCE, which root lacks here: clamped.
  ProcResult down =
      Comet({"run", kImage, "--oom-score-adj=-500", "--", "/bin/cat", "/proc/self/oom_score_adj"});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
  EXPECT_EQ(Trim(down.out), std::to_string(lowest));
  if (lowest > -500) {
    EXPECT_TRUE(Contains(down.err, "CAP_SYS_RESOURCE")) << "no warning: " << down.Describe();
  }
  ProcResult bad = Comet({"run", kImage, "--oom-score-adj=5000", "--", "/bin/true"});
  EXPECT_EQ(bad.exit_code, 254) << bad.Describe();
  EXPECT_TRUE(Contains(bad.err, "oom")) << bad.err;
}

namespace {

using Volumes = PodChecks;
using Resources = PodChecks;

TEST_F(Volumes, HostVolumesReadWriteAndReadOnly) {
  HostVolumesReadWriteAndReadOnly();
}

TEST_F(Volumes, EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs) {
  EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs();
}

TEST_F(Volumes, ReadOnlyRootfsAndWorkingDirAndUser) {
  ReadOnlyRootfsAndWorkingDirAndUser();
}

TEST_F(Volumes, CapsRetainAndRemove) {
  CapsRetainAndRemove();
}

TEST_F(Resources, LimitsLandInTheAppsCgroup) {
  if (!HaveCgroupV1("memory")) {
    GTEST_SKIP() << "written for the v1 hierarchies of this machine";
  }
  const std::string uuid = RunDetached(
      {kImage, "--name=limited", "--memory=64M", "--cpu=500m", "--cpu-shares=512",
       "--pids-limit=50", "--", "/bin/sh", "-c",
       "cat /proc/self/cgroup > /tmp/cg; trap 'exit 0' TERM; while true; do sleep 0.2; done"});
  ASSERT_FALSE(uuid.empty());
  const std::string relative = "/comet/pod-" + uuid + "/limited";
  const std::string memory = FindCgroupDir("memory", relative);
  const std::string cpu = FindCgroupDir("cpu", relative);
  const std::string pids = FindCgroupDir("pids", relative);
  ASSERT_FALSE(memory.empty()) << "no memory cgroup " << relative;
  ASSERT_FALSE(cpu.empty()) << "no cpu cgroup " << relative;
  ASSERT_FALSE(pids.empty()) << "no pids cgroup " << relative;
  EXPECT_EQ(Trim(ReadFileOrEmpty(memory + "/memory.limit_in_bytes")), "67108864");
  const int64_t quota = std::stoll(ReadFileOrEmpty(cpu + "/cpu.cfs_quota_us"));
  const int64_t period = std::stoll(ReadFileOrEmpty(cpu + "/cpu.cfs_period_us"));
  EXPECT_EQ(quota * 2, period) << "500m = half a CPU";
  EXPECT_EQ(Trim(ReadFileOrEmpty(cpu + "/cpu.shares")), "512");
  EXPECT_EQ(Trim(ReadFileOrEmpty(pids + "/pids.max")), "50");
  // The app's processes are in it.
  const std::string procs = ReadFileOrEmpty(memory + "/cgroup.procs");
  EXPECT_FALSE(Trim(procs).empty()) << "no process in " << memory;
  nlohmann::json app = AppStatus(uuid, "limited");
  ASSERT_TRUE(app.is_object());
  const std::string app_pid = std::to_string(app["pid"].get<int>());
  EXPECT_TRUE(Contains(ReadFileOrEmpty("/proc/" + app_pid + "/cgroup"), relative))
      << ReadFileOrEmpty("/proc/" + app_pid + "/cgroup");
  // exec lands in it too.
  ProcResult exec = Comet({"exec", uuid, "/bin/cat", "/proc/self/cgroup"});
  EXPECT_EQ(exec.exit_code, 0) << exec.Describe();
  EXPECT_EQ(Comet({"stop", uuid}).exit_code, 0);
  // Teardown removes the pod's cgroups (checked again by the fixture after gc).
  CleanUpAndExpectNothingLeft("after stop and gc");
  EXPECT_EQ(FindCgroupDir("memory", "/comet/pod-" + uuid), "");
}

TEST_F(Resources, MemoryLimitKillsTheApp) {
  if (!HaveCgroupV1("memory")) {
    GTEST_SKIP() << "written for the v1 hierarchies of this machine";
  }
  // tail buffers all of /dev/zero's "line": unbounded memory.
  ProcResult r =
      Comet({"run", kImage, "--memory=32M", "--", "/bin/sh", "-c", "exec tail /dev/zero"},
            {.timeout = 60s});
  EXPECT_EQ(r.exit_code, 137) << "OOM-killed: " << r.Describe();
  ASSERT_EQ(PodDirs().size(), 1U);
  const std::string uuid = PodDirs()[0].substr(PodDirs()[0].find('/') + 1);
  nlohmann::json app = AppStatus(uuid, kApp);
  ASSERT_TRUE(app.is_object());
  EXPECT_EQ(app["exit_code"], 137) << app;
  EXPECT_EQ(app["reason"], "OOMKilled") << app;
}

TEST_F(Resources, OomScoreAdj) {
  OomScoreAdj();
}

}  // namespace
}  // namespace comet::e2e::pod
