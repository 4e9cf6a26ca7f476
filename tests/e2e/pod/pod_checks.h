// PodChecks: test bodies that run unchanged as root and as an unprivileged user. Each is defined
// in the root test file of its topic and called from a root TEST_F there and from a Rootless*
// TEST_F in a rootless_*_test.cc file, so both prove the same behaviour. RootlessPodTest skips
// as root (run-rootless.sh runs those tests as the comet-test user).
// Not thread-safe: one test at a time per process (as PodTest).
#ifndef COMET_TESTS_E2E_POD_POD_CHECKS_H_
#define COMET_TESTS_E2E_POD_POD_CHECKS_H_

#include <string>
#include <vector>

#include "e2e/pod/pod_fixture.h"

namespace comet::e2e::pod {

class PodChecks : public PodTest {
 public:
  // The steps COMET_TEST_CRASH_AT knows (docs/pods.md).
  static std::vector<std::string> CrashSteps();

 protected:
  // interact_test.cc
  void AttachWithATty();
  void AttachWithoutATty();
  void ExecAndEnterShareTheAppsCgroupAndCaps();
  // lifecycle_test.cc
  void DetachedListStatusStopRm();
  void PrepareThenRunPrepared();
  void StopForceAndTimeout();
  // run_test.cc
  void RunInteractive();
  void RemoveLeavesNothing();
  void EnvironmentAndHostname();
  // mutable_test.cc
  void SandboxAddStartExecStopRemove();
  // multi_app_test.cc
  void AppsShareLoopbackIpcAndHostname();
  void RestartPolicies();
  void InitContainerFailingForGoodFailsThePod();
  void InitContainerRetriesWithDoublingBackOff();
  // volumes_resources_test.cc
  void HostVolumesReadWriteAndReadOnly();
  void EmptyVolumeSharedBetweenAppsAndMemoryIsTmpfs();
  void ReadOnlyRootfsAndWorkingDirAndUser();
  void CapsRetainAndRemove();
  void OomScoreAdj();
  // fault_test.cc: stage0 or the supervisor SIGKILLed at `step`, then gc.
  void CrashAtStepThenGc(const std::string& step);
};

class RootlessPodTest : public PodChecks {
 protected:
  void SetUp() override;
};

}  // namespace comet::e2e::pod

#endif  // COMET_TESTS_E2E_POD_POD_CHECKS_H_
