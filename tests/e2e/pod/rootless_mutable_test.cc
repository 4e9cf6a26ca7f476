// Pods of several apps as an unprivileged user: mutable pods (app sandbox, add, start, stop, rm,
// list, status, exec), two apps talking over the shared loopback with shared IPC and UTS
// namespaces, restart policies and init containers. The bodies are shared with the root tests
// (pod_checks.h). Run through ../run-rootless.sh; as root they skip.
#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

using RootlessMutablePod = RootlessPodTest;
using RootlessMultiApp = RootlessPodTest;

TEST_F(RootlessMutablePod, SandboxAddStartExecStopRemove) {
  SandboxAddStartExecStopRemove();
}

TEST_F(RootlessMultiApp, AppsShareLoopbackIpcAndHostname) {
  AppsShareLoopbackIpcAndHostname();
}

TEST_F(RootlessMultiApp, RestartPolicies) {
  RestartPolicies();
}

TEST_F(RootlessMultiApp, InitContainerRetriesWithDoublingBackOff) {
  InitContainerRetriesWithDoublingBackOff();
}

TEST_F(RootlessMultiApp, InitContainerFailingForGoodFailsThePod) {
  InitContainerFailingForGoodFailsThePod();
}

}  // namespace
}  // namespace comet::e2e::pod
