// An unprivileged user's pods configured per app: host, empty (disk) and memory (tmpfs)
// volumes, --readonly-rootfs, --working-dir, --user/--group, --caps-retain/--caps-remove,
// --oom-score-adj and resource limits; and gc after stage0 or the supervisor is SIGKILLed at
// each step. Shared bodies are in the root tests (pod_checks.h). Run through
// ../run-rootless.sh; as root they skip.
#include <unistd.h>

#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

using RootlessVolumes = RootlessPodTest;
using RootlessResources = RootlessPodTest;

TEST_F(RootlessVolumes, HostVolumesReadWriteAndReadOnly) {
  HostVolumesReadWriteAndReadOnly();
}

TEST_F(RootlessVolumes, EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs) {
  EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs();
}

TEST_F(RootlessVolumes, ReadOnlyRootfsAndWorkingDirAndUser) {
  ReadOnlyRootfsAndWorkingDirAndUser();
}

TEST_F(RootlessVolumes, CapsRetainAndRemove) {
  CapsRetainAndRemove();
}

TEST_F(RootlessResources, OomScoreAdj) {
  OomScoreAdj();
}

// This user's own v1 memory cgroup directory, from /proc/self/cgroup.
std::string OwnMemoryCgroup() {
  for (const std::string& line : Lines(ReadFileOrEmpty("/proc/self/cgroup"))) {
    const size_t colon = line.find(':');
    const size_t second = line.find(':', colon + 1);
    if (colon != std::string::npos && second != std::string::npos &&
        line.substr(colon + 1, second - colon - 1) == "memory") {
      return "/sys/fs/cgroup/memory" + line.substr(second + 1);
    }
  }
  return "";
}

// Without delegated cgroups (cgroup v1: an unprivileged user cannot write the cgroupfs) comet
// runs the app without --memory/--cpu/--pids-limit and says so on stderr (the runtime's rule, see
// cgroup_paths in docs/on-disk-format.md): the app is in no pod cgroup and allocates more than the
// limit it asked for.
TEST_F(RootlessResources, LimitsWithoutDelegatedCgroupsAreNotAppliedAndSaidSo) {
  const std::string own = OwnMemoryCgroup();
  if (!HaveCgroupV1("memory") || own.empty() || ::access(own.c_str(), W_OK) == 0) {
    GTEST_SKIP() << "written for v1 hierarchies this user cannot write";
  }
  const std::string script =
      "cat /proc/self/cgroup; dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null && "
      "echo allocated-48M";
  ProcResult r = Comet({"run", kImage, "--memory=32M", "--cpu=500m", "--pids-limit=50", "--",
                        "/bin/sh", "-c", script},
                       {.timeout = 60s});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "cgroups are not delegated to this user")) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "not applied")) << r.Describe();
  EXPECT_FALSE(Contains(r.out, "/comet/pod-")) << "the app is in a pod cgroup: " << r.out;
  EXPECT_TRUE(Contains(r.out, "allocated-48M")) << r.Describe();
}

// A run -d with limits says the same: stage0 relays what the detached supervisor logs until it
// is ready.
TEST_F(RootlessResources, DetachedRunSaysLimitsAreNotApplied) {
  const std::string own = OwnMemoryCgroup();
  if (!HaveCgroupV1("memory") || own.empty() || ::access(own.c_str(), W_OK) == 0) {
    GTEST_SKIP() << "written for v1 hierarchies this user cannot write";
  }
  ProcResult r = Comet({"run", "-d", kImage, "--memory=32M", "--", "/bin/sh", "-c", kSleeper});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "not applied")) << r.Describe();
  const std::string uuid = r.out.substr(0, r.out.find('\n'));
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(Comet({"stop", "--force", uuid}).exit_code, 0);
  EXPECT_EQ(Comet({"rm", uuid}).exit_code, 0);
}

class RootlessCrashAt : public RootlessPodTest,
                        public ::testing::WithParamInterface<std::string> {};

TEST_P(RootlessCrashAt, GcCleansUpEverything) {
  CrashAtStepThenGc(GetParam());
}

INSTANTIATE_TEST_SUITE_P(RootlessSteps, RootlessCrashAt,
                         ::testing::ValuesIn(PodChecks::CrashSteps()),
                         [](const ::testing::TestParamInfo<std::string>& step) {
                           return step.param;
                         });

}  // namespace
}  // namespace comet::e2e::pod
