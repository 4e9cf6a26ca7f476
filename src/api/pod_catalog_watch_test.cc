// Tests of PodCatalog's invalidation by change: a warm ListPods reads and stats no unchanged
// pod (inotify), and every kind of change (a rename between phases, a rewritten status, a new or
// removed pod, a supervisor killed without any file event) shows in the next call, with inotify
// and in both fallbacks (no inotify; past the watch bound), and under concurrent callers.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "api/pod_catalog.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_store.h"
#include "pod/volatile_dir.h"

namespace comet::api {
namespace {

enum class Mode { kInotify, kNoInotify, kNoWatchesLeft };

PodCatalogOptions OptionsFor(Mode mode) {
  PodCatalogOptions options;
  options.use_inotify = mode != Mode::kNoInotify;
  options.max_pod_watches = mode == Mode::kNoWatchesLeft ? 0 : options.max_pod_watches;
  return options;
}

class PodCatalogWatchTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<pod::PodStore>(
        pod::PodStore::Open(os::JoinPath(dir_.path(), "pods")).value());
  }

  pod::Pod Preparing() {
    pod::Pod pod = store_->CreatePreparing().value();
    pod::PodManifest m;
    m.uuid = pod.uuid();
    m.created = "2026-11-29T10:00:00Z";
    pod::App app;
    app.name = "web";
    app.image = "localhost:5000/web:1";
    app.image_id = "sha256:" + std::string(64, 'a');
    app.exec = {"/bin/sh"};
    m.apps.push_back(app);
    m.annotations = {{"team", "a"}};
    EXPECT_TRUE(pod::WriteManifest(pod.path(), m, false));
    return pod;
  }

  std::string Prepared() {
    pod::Pod pod = Preparing();
    EXPECT_TRUE(pod.FinishPrepare());
    return pod.uuid();
  }

  // A pod in run/ whose supervisor (the returned Pod's lock) runs web.
  pod::Pod Running() {
    pod::Pod pod = Preparing();
    EXPECT_TRUE(pod.StartRunning());
    EXPECT_TRUE(pod::EnsureVolatileDir(pod.path(), os::JoinPath(dir_.path(), "volatile")));
    EXPECT_TRUE(pod::WritePodPid(pod.path(), 4242));
    WriteStatus(pod.path(), pod::AppState::kRunning, -1);
    return pod;
  }

  std::string Exited() {
    pod::Pod pod = Running();
    WriteStatus(pod.path(), pod::AppState::kExited, 3);
    return pod.uuid();
  }

  static void WriteStatus(const std::string& pod_dir, pod::AppState state, int exit_code) {
    pod::AppStatus status;
    status.name = "web";
    status.state = state;
    status.exit_code = exit_code;
    ASSERT_TRUE(pod::WriteAppStatus(pod_dir, status));
  }

  std::string RunPath(const std::string& uuid) const {
    return os::JoinPath(store_->root(), "run/" + uuid);
  }

  std::unique_ptr<PodCatalog> Catalog() {
    return std::move(PodCatalog::Open(dir_.path(), OptionsFor(GetParam())).value());
  }

  static const v1alpha::Pod* Find(const std::vector<v1alpha::Pod>& pods, const std::string& id) {
    auto it = std::find_if(pods.begin(), pods.end(), [&](const auto& p) { return p.id() == id; });
    return it == pods.end() ? nullptr : &*it;
  }

  static std::vector<v1alpha::Pod> ListAll(PodCatalog& catalog) {
    auto pods = catalog.List({}, /*detail=*/true);
    EXPECT_TRUE(pods) << pods.error().ToString();
    return pods ? std::move(*pods) : std::vector<v1alpha::Pod>{};
  }

  // Stat-checked pods are read again while their timestamps are younger than the racy window.
  static void Settle() { std::this_thread::sleep_for(std::chrono::milliseconds(80)); }

  os::TempDir dir_ = std::move(os::TempDir::Create("comet-api-watch-").value());
  std::unique_ptr<pod::PodStore> store_;
};

// The issue-5 goal rests on this: with inotify, a warm call reads no pod, stats no pod and lists
// no phase directory; it only probes the locks of the pods in run/ (here 2 of 22).
TEST_P(PodCatalogWatchTest, WarmListTouchesNoUnchangedPod) {
  for (int i = 0; i < 20; ++i) {
    (void)Prepared();
  }
  pod::Pod running = Running();
  (void)Exited();
  Settle();
  auto catalog = Catalog();
  ASSERT_EQ(ListAll(*catalog).size(), 22u);
  const PodCatalogStats cold = catalog->stats();
  EXPECT_EQ(cold.pod_reads, 22u);
  ASSERT_EQ(ListAll(*catalog).size(), 22u);
  ASSERT_TRUE(catalog->Inspect(running.uuid()));
  const PodCatalogStats warm = catalog->stats();
  EXPECT_EQ(warm.pod_reads, cold.pod_reads);
  EXPECT_EQ(warm.cached_pods, 22u);
  if (GetParam() == Mode::kInotify) {
    EXPECT_TRUE(warm.inotify);
    EXPECT_EQ(warm.full_scans, cold.full_scans);
    EXPECT_EQ(warm.stamp_checks, cold.stamp_checks);
    EXPECT_EQ(warm.lock_probes - cold.lock_probes, 3u);  // 2 in the List, 1 in the Inspect
    // 20 prepared pods: their directory; 2 pods that ran: directory, state, state/apps, web.
    EXPECT_EQ(warm.pod_watches, 20u + 2 * 4u);
  } else {
    EXPECT_GT(warm.stamp_checks, cold.stamp_checks);  // the fallback stats every pod
  }
}

TEST_P(PodCatalogWatchTest, PodRenamedBetweenPhasesShows) {
  const std::string exited = Exited();
  const std::string prepared = Prepared();
  Settle();
  auto catalog = Catalog();
  auto pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(Find(pods, exited)->gc_marked_at(), 0);
  const uint64_t reads = catalog->pod_reads();

  ASSERT_TRUE(store_->MarkExited(exited));     // run/ -> exited-garbage/
  ASSERT_TRUE(store_->MarkGarbage(prepared));  // prepared/ -> garbage/
  pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(Find(pods, exited)->state(), v1alpha::POD_STATE_EXITED);
  EXPECT_GT(Find(pods, exited)->gc_marked_at(), 0);
  EXPECT_EQ(Find(pods, prepared)->state(), v1alpha::POD_STATE_GARBAGE);
  EXPECT_EQ(catalog->pod_reads() - reads, 2u);
  auto dir = catalog->PodDir(exited);
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, os::JoinPath(store_->root(), "exited-garbage/" + exited));
}

TEST_P(PodCatalogWatchTest, RewrittenAppStatusShows) {
  const std::string exited = Exited();
  (void)Prepared();
  Settle();
  auto catalog = Catalog();
  ASSERT_EQ(ListAll(*catalog).size(), 2u);
  const uint64_t reads = catalog->pod_reads();
  for (int code : {7, 8}) {  // twice in a row: well inside one timestamp tick
    WriteStatus(RunPath(exited), pod::AppState::kExited, code);
    auto pods = ListAll(*catalog);
    ASSERT_EQ(pods.size(), 2u);
    ASSERT_EQ(Find(pods, exited)->apps_size(), 1);
    EXPECT_EQ(Find(pods, exited)->apps(0).exit_code(), code);
  }
  if (GetParam() == Mode::kInotify) {
    EXPECT_EQ(catalog->pod_reads() - reads, 2u);  // the changed pod only, once per change
  }
  // A new pid file (renamed into the state directory) shows through Inspect alone.
  ASSERT_TRUE(pod::WritePodPid(RunPath(exited), 99));
  auto pod = catalog->Inspect(exited);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->pid(), 99);
}

// A supervisor killed by SIGKILL releases its lock with no file event: the next call still sees
// the pod exited, and its running app no longer running.
TEST_P(PodCatalogWatchTest, KilledSupervisorShows) {
  pod::Pod pod = Running();
  const std::string uuid = pod.uuid();
  const int lock_fd = pod.ReleaseLockForExec().value();
  const pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ::pause();  // holds the inherited lock
    ::_exit(0);
  }
  ::close(lock_fd);  // only the child holds it now
  Settle();
  auto catalog = Catalog();
  auto pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].state(), v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(pods[0].apps(0).state(), v1alpha::APP_STATE_RUNNING);
  EXPECT_FALSE(pods[0].cgroup().empty());

  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ASSERT_EQ(::waitpid(supervisor, nullptr, 0), supervisor);
  pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].state(), v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(pods[0].apps(0).state(), v1alpha::APP_STATE_UNDEFINED);
  EXPECT_TRUE(pods[0].cgroup().empty());
}

TEST_P(PodCatalogWatchTest, NewAndRemovedPodsShow) {
  const std::string a = Exited();
  auto catalog = Catalog();
  ASSERT_EQ(ListAll(*catalog).size(), 1u);
  const std::string b = Prepared();
  pod::Pod preparing = Preparing();
  auto pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 3u);
  EXPECT_EQ(Find(pods, b)->state(), v1alpha::POD_STATE_PREPARED);
  EXPECT_EQ(Find(pods, preparing.uuid())->state(), v1alpha::POD_STATE_PREPARING);
  ASSERT_TRUE(catalog->Inspect(b));

  { pod::Pod aborted = std::move(preparing); }  // its preparer died: an aborted prepare
  ASSERT_TRUE(os::RemoveAll(RunPath(a)));
  pods = ListAll(*catalog);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(Find(pods, a), nullptr);
  EXPECT_EQ(pods[pods[0].id() == b ? 1 : 0].state(), v1alpha::POD_STATE_ABORTED_PREPARE);
  EXPECT_EQ(catalog->cached_pods(), 2u);
  auto gone = catalog->Inspect(a);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ENOENT);
  if (GetParam() == Mode::kInotify) {
    EXPECT_EQ(catalog->stats().full_scans, 1u);
  }
}

// Callers on several threads while pods change: every answer is whole and the last one current.
TEST_P(PodCatalogWatchTest, ConcurrentCallers) {
  std::vector<std::string> exited;
  exited.reserve(8);
  for (int i = 0; i < 8; ++i) {
    exited.push_back(Exited());
  }
  auto catalog = Catalog();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  callers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      while (!stop.load()) {
        auto pods = catalog->List({}, /*detail=*/t % 2 == 0);
        if (!pods || pods->size() != exited.size()) {
          ++bad;
        }
        if (!catalog->Inspect(exited[static_cast<size_t>(t)])) {
          ++bad;
        }
      }
    });
  }
  for (int round = 0; round < 20; ++round) {
    for (const std::string& uuid : exited) {
      WriteStatus(RunPath(uuid), pod::AppState::kExited, round);
    }
  }
  stop = true;
  for (auto& caller : callers) {
    caller.join();
  }
  EXPECT_EQ(bad.load(), 0);
  Settle();
  for (const v1alpha::Pod& pod : ListAll(*catalog)) {
    EXPECT_EQ(pod.apps(0).exit_code(), 19) << pod.id();
  }
}

std::string ModeName(const ::testing::TestParamInfo<Mode>& param) {
  switch (param.param) {
    case Mode::kInotify:
      return "Inotify";
    case Mode::kNoInotify:
      return "NoInotify";
    case Mode::kNoWatchesLeft:
      return "NoWatchesLeft";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Modes, PodCatalogWatchTest,
                         ::testing::Values(Mode::kInotify, Mode::kNoInotify, Mode::kNoWatchesLeft),
                         ModeName);

}  // namespace
}  // namespace comet::api
