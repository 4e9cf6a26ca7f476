// Talking to pods as an unprivileged user: attach with a tty (forkpty, detach keys) and without,
// run -i, --rm, prepare + run-prepared, --uuid-file-save, cat-manifest, exec and enter with
// --caps-remove, --hostname, stop --force. The bodies are shared with the root tests
// (pod_checks.h). Run through ../run-rootless.sh; as root they skip.
#include "e2e/pod/pod_checks.h"

namespace comet::e2e::pod {
namespace {

using RootlessInteract = RootlessPodTest;
using RootlessLifecycle = RootlessPodTest;

TEST_F(RootlessInteract, AttachWithATtyAndDetachKeys) {
  AttachWithATty();
}

TEST_F(RootlessInteract, AttachWithoutATty) {
  AttachWithoutATty();
}

TEST_F(RootlessInteract, RunInteractive) {
  RunInteractive();
}

TEST_F(RootlessInteract, ExecAndEnterShareTheAppsCgroupAndCaps) {
  ExecAndEnterShareTheAppsCgroupAndCaps();
}

TEST_F(RootlessInteract, EnvironmentAndHostname) {
  EnvironmentAndHostname();
}

TEST_F(RootlessLifecycle, RemoveLeavesNothing) {
  RemoveLeavesNothing();
}

// run -d with --uuid-file-save, list, status, cat-manifest (UUID, prefix, --uuid-file), stop, rm.
TEST_F(RootlessLifecycle, DetachedListStatusCatManifestStopRm) {
  DetachedListStatusStopRm();
}

TEST_F(RootlessLifecycle, PrepareThenRunPrepared) {
  PrepareThenRunPrepared();
}

TEST_F(RootlessLifecycle, StopForceAndTimeout) {
  StopForceAndTimeout();
}

}  // namespace
}  // namespace comet::e2e::pod
