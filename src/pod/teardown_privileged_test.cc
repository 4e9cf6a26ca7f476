// Privileged tests for TeardownPod and PodStore::Remove against the real kernel: runtime
// containers and stray processes in the pod cgroup are killed and every hierarchy's
// /comet/pod-<uuid> removed; mounts under the pod directory (an overlay snapshot, nested and
// busy mounts) are undone; Remove refuses while anything is mounted. Bodies run in forked
// children (own mount namespace where they mount).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <gtest/gtest.h>

#include "base/scope_exit.h"
#include "cgroup/manager.h"
#include "image/snapshot.h"
#include "oci/default_spec.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/mount_table.h"
#include "pod/pod_dir.h"
#include "pod/pod_store.h"
#include "pod/teardown.h"
#include "runtime/runtime.h"
#include "testing/busybox_rootfs.h"
#include "testing/child_check.h"
#include "testing/in_child.h"

namespace comet::pod {
namespace {

bool Alive(pid_t pid) {
  // A zombie still answers kill(0): reap first when it is ours.
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    return false;
  }
  return kill(pid, 0) == 0;
}

// Dead within a few seconds (a SIGKILLed process may take a moment to be reaped).
bool Dies(pid_t pid) {
  for (int i = 0; i < 300; ++i) {
    if (!Alive(pid)) {
      return true;
    }
    usleep(10 * 1000);
  }
  return false;
}

class TeardownPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IsRoot()) {
      GTEST_SKIP() << "needs root (cgroups, mounts, containers)";
    }
    auto dir = os::TempDir::Create("comet-teardown-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ASSERT_EQ(chmod(dir_->path().c_str(), 0755), 0);
    uuid_ = NewUuid();
  }

  // The pod cgroup's directory in every hierarchy (v1 controllers and the unified mount).
  std::vector<std::string> PodCgroupDirs() {
    std::vector<std::string> dirs;
    auto layout = cgroup::DetectLayout();
    if (!layout) {
      return dirs;
    }
    for (const auto& [controller, root] : layout->v1_roots) {
      dirs.push_back(root + PodCgroupPath(uuid_));
    }
    if (!layout->unified_root.empty()) {
      dirs.push_back(layout->unified_root + PodCgroupPath(uuid_));
    }
    return dirs;
  }

  // In a child: a private mount namespace for the test's mounts; false on failure.
  static bool PrivateMounts() {
    return unshare(CLONE_NEWNS) == 0 && mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
  }

  // A one-layer image tree holding etc/hello; "" on failure.
  std::string MakeLayer() const {
    std::string layer = dir_->path() + "/layer";
    if (!os::MkdirAll(layer + "/etc") || !os::WriteFile(layer + "/etc/hello", "hi\n")) {
      return "";
    }
    return layer;
  }

  std::optional<os::TempDir> dir_;
  std::string uuid_;
};

// A runtime container in <pod>/runtime with its cgroup below the pod's, plus a stray process in
// the pod cgroup (a leftover no runtime state knows about): both die, all groups go.
TEST_F(TeardownPrivilegedTest, KillsContainersAndRemovesThePodCgroup) {
  if (!testing::HaveBusybox()) {
    GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  }
  std::string pod = dir_->path() + "/pod";
  std::string bundle = dir_->path() + "/bundle";
  ASSERT_TRUE(testing::MakeBusyboxRootfs(bundle + "/rootfs", {"sleep"}));
  oci::Spec spec = oci::DefaultSpec(false);
  spec.process->terminal = false;
  spec.process->args = {"sleep", "1000"};
  spec.process->env = {"PATH=/bin"};
  spec.linux_config->cgroups_path = AppCgroupPath(uuid_, "web");
  ASSERT_TRUE(os::WriteFile(bundle + "/config.json", oci::SpecToJson(spec)));
  ASSERT_TRUE(os::MkdirAll(RuntimeRoot(pod)));

  auto outcome = testing::RunInChild([&]() -> int {
    alarm(60);
    runtime::GlobalOptions global;
    global.root = RuntimeRoot(pod);
    runtime::CreateOptions create;
    create.id = "web";
    create.bundle = bundle;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    create.stdio = {devnull, devnull, devnull};
    CHILD_OK(runtime::Create(global, create));
    CHILD_OK(runtime::Start(global, "web"));
    auto state = runtime::GetState(global, "web");
    CHILD_OK(state);
    pid_t init = state->pid;
    CHILD_CHECK(init > 0 && Alive(init));

    // A stray: in the pod cgroup, unknown to the runtime.
    pid_t stray = fork();
    if (stray == 0) {
      // Not holding RunInChild's output pipe, so that a surviving stray cannot hang the test.
      dup2(devnull, 1);
      dup2(devnull, 2);
      pause();
      _exit(0);
    }
    // Whatever the outcome, nothing outlives the test.
    ScopeExit reap([&] {
      kill(stray, SIGKILL);
      kill(init, SIGKILL);
      (void)runtime::Delete(global, "web", true);
    });
    auto layout = cgroup::DetectLayout();
    CHILD_OK(layout);
    auto group = cgroup::Manager::Create(*layout, PodCgroupPath(uuid_) + "/stray", "stray");
    CHILD_OK(group);
    CHILD_OK((*group)->AddProcess(stray));

    bool any = false;
    for (const std::string& dir : PodCgroupDirs()) {
      any = any || os::IsDirectory(dir);
    }
    CHILD_CHECK(any);

    CHILD_OK(TeardownPod(pod, uuid_, {}));
    CHILD_CHECK(Dies(init));
    CHILD_CHECK(Dies(stray));
    for (const std::string& dir : PodCgroupDirs()) {
      if (os::Exists(dir)) {
        (void)std::fprintf(stderr, "left behind: %s\n", dir.c_str());
        return 1;
      }
    }
    auto left = runtime::List(global);
    CHILD_OK(left);
    CHILD_CHECK(left->empty());
    CHILD_OK(TeardownPod(pod, uuid_, {}));  // again: nothing to do
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// An overlay snapshot, a tmpfs volume with a nested mount, and a busy mount: all unmounted
// (the busy one detached); Remove refuses before and works after.
TEST_F(TeardownPrivilegedTest, UnmountsLeftoversAndRemoveRefusesWhileMounted) {
  auto outcome = testing::RunInChild([&]() -> int {
    alarm(60);
    CHILD_CHECK(PrivateMounts());
    auto store = PodStore::Open(dir_->path() + "/pods");
    CHILD_OK(store);
    auto created = store->CreatePreparing(uuid_);
    CHILD_OK(created);
    CHILD_OK(created->StartRunning());
    std::string pod = created->path();

    const std::string layer = MakeLayer();
    CHILD_CHECK(!layer.empty());
    CHILD_OK(MakeAppDirs(pod, "web"));
    auto kind = image::CreateSnapshot({layer}, AppSnapshotDir(pod, "web"), {});
    CHILD_OK(kind);
    CHILD_CHECK(*kind == image::SnapshotKind::kOverlay);

    std::string volume = VolumeDir(pod, "data");
    CHILD_OK(os::MkdirAll(volume));
    CHILD_CHECK(mount("tmpfs", volume.c_str(), "tmpfs", 0, "size=1m") == 0);
    CHILD_OK(os::MkdirAll(volume + "/inner"));
    CHILD_CHECK(mount("tmpfs", (volume + "/inner").c_str(), "tmpfs", 0, "size=1m") == 0);
    CHILD_OK(os::WriteFile(volume + "/inner/keep", "precious\n"));
    std::string busy = os::JoinPath(pod, "busy");
    CHILD_OK(os::MkdirAll(busy));
    CHILD_CHECK(mount("tmpfs", busy.c_str(), "tmpfs", 0, "size=1m") == 0);
    int held = open((busy + "/file").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    CHILD_CHECK(held >= 0);

    auto before = internal::CurrentMountPointsUnder(pod);
    CHILD_OK(before);
    CHILD_CHECK(before->size() >= 4);

    // The pod exits with everything still mounted: Remove must not rm -rf through the mounts.
    auto lock_fd = created->ReleaseLockForExec();
    CHILD_OK(lock_fd);
    close(*lock_fd);
    CHILD_OK(store->MarkExited(uuid_));
    auto locked = store->LockForRemoval(uuid_);
    CHILD_OK(locked);
    pod = locked->path();
    auto refused = store->Remove(std::move(*locked));
    CHILD_CHECK(!refused && refused.error().code() == EBUSY);
    CHILD_CHECK(os::Exists(VolumeDir(pod, "data") + "/inner/keep"));

    CHILD_OK(TeardownPod(pod, uuid_, {}));
    auto after = internal::CurrentMountPointsUnder(pod);
    CHILD_OK(after);
    CHILD_CHECK(after->empty());
    CHILD_CHECK(!os::Exists(AppSnapshotDir(pod, "web")));
    CHILD_CHECK(os::IsDirectory(VolumeDir(pod, "data")));
    CHILD_CHECK(!os::Exists(VolumeDir(pod, "data") + "/inner/keep"));  // was on the tmpfs
    CHILD_CHECK(os::Exists(layer + "/etc/hello"));  // the lower layer is untouched
    close(held);
    CHILD_OK(TeardownPod(pod, uuid_, {}));

    auto again = store->LockForRemoval(uuid_);
    CHILD_OK(again);
    CHILD_OK(store->Remove(std::move(*again)));
    CHILD_CHECK(!os::Exists(pod));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

// A pod of an older version has each app's snapshot one level down (apps/<app>/snapshot):
// teardown still unmounts and removes it, never reaching the layer through the mount (a guard
// for the layout change: nothing in teardown names the old path).
TEST_F(TeardownPrivilegedTest, RemovesAnOlderPodsSnapshot) {
  auto outcome = testing::RunInChild([&]() -> int {
    alarm(60);
    CHILD_CHECK(PrivateMounts());
    auto store = PodStore::Open(dir_->path() + "/pods");
    CHILD_OK(store);
    auto pod = store->CreatePreparing(uuid_);
    CHILD_OK(pod);
    const std::string layer = MakeLayer();
    CHILD_CHECK(!layer.empty());
    CHILD_OK(os::MkdirAll(AppSnapshotDir(pod->path(), "web"), 0750));
    const std::string legacy = AppSnapshotDir(pod->path(), "web") + "/snapshot";
    auto kind = image::CreateSnapshot({layer}, legacy, {});
    CHILD_OK(kind);
    CHILD_CHECK(*kind == image::SnapshotKind::kOverlay);
    CHILD_CHECK(os::Exists(image::SnapshotRootfs(legacy) + "/etc/hello"));

    CHILD_OK(TeardownPod(pod->path(), uuid_, {}));
    auto after = internal::CurrentMountPointsUnder(pod->path());
    CHILD_OK(after);
    CHILD_CHECK(after->empty());
    CHILD_CHECK(!os::Exists(AppSnapshotDir(pod->path(), "web")));
    CHILD_CHECK(os::Exists(layer + "/etc/hello"));
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

}  // namespace
}  // namespace comet::pod
