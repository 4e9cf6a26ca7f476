// Tests for the pods directory: phases, state derivation (rkt's table), lock semantics across
// processes and races between processes attempting the same transition.
#include "pod/pod_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/group_dir.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"

namespace comet::pod {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// A forked child running `body`; its exit code is body's return value.
pid_t Fork(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    _exit(body());
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A one-shot start line for racing children: they block reading until Release closes it.
class StartGate {
 public:
  StartGate() {
    if (pipe2(fds_, O_CLOEXEC) != 0) {
      fds_[0] = fds_[1] = -1;
    }
  }
  StartGate(const StartGate&) = delete;
  StartGate& operator=(const StartGate&) = delete;
  StartGate(StartGate&&) = delete;
  StartGate& operator=(StartGate&&) = delete;
  ~StartGate() {
    close(fds_[0]);
    close(fds_[1]);
  }
  // In the child.
  void WaitOpen() {
    close(fds_[1]);
    char c;
    while (read(fds_[0], &c, 1) < 0 && errno == EINTR) {
    }
  }
  // In the parent.
  void Release() {
    close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

// A child that holds something until told to exit (via a pipe), reporting when it holds it.
class Holder {
 public:
  // `take` runs in the child; returns true when the child should hold (wait), false on failure.
  explicit Holder(const std::function<bool()>& take) {
    int ready[2];
    int quit[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(quit, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(quit[1]);
      char ok = take() ? 'y' : 'n';
      (void)!write(ready[1], &ok, 1);
      char c;
      (void)!read(quit[0], &c, 1);
      _exit(0);
    }
    close(ready[1]);
    close(quit[0]);
    quit_ = quit[1];
    char ok = 'n';
    (void)!read(ready[0], &ok, 1);
    close(ready[0]);
    holding_ = ok == 'y';
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  Holder(Holder&&) = delete;
  Holder& operator=(Holder&&) = delete;
  ~Holder() { Stop(); }
  bool holding() const { return holding_; }
  void Stop() {
    if (quit_ >= 0) {
      close(quit_);
      quit_ = -1;
      Wait(pid_);
    }
  }

 private:
  pid_t pid_ = -1;
  int quit_ = -1;
  bool holding_ = false;
};

class PodStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-pods-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    auto store = PodStore::Open(os::JoinPath(dir_->path(), "pods"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_.emplace(std::move(*store));
  }

  PodState StateOf(const std::string& uuid) {
    auto entry = store_->Refresh(uuid);
    return entry ? entry->state : PodState::kUndefined;
  }

  // A pod in prepared/, lock free.
  std::string Prepared() {
    auto pod = store_->CreatePreparing();
    EXPECT_TRUE(pod);
    std::string uuid = pod->uuid();
    EXPECT_TRUE(pod->FinishPrepare());
    return uuid;
  }

  // A pod in run/ whose lock holder is gone.
  std::string Exited() {
    std::string uuid = Prepared();
    auto pod = store_->StartPrepared(uuid);
    EXPECT_TRUE(pod);
    return uuid;
  }

  std::optional<os::TempDir> dir_;
  std::optional<PodStore> store_;
};

TEST_F(PodStoreTest, OpenCreatesThePhaseDirectories) {
  for (const char* phase : kPhaseDirs) {
    EXPECT_TRUE(os::IsDirectory(os::JoinPath(store_->root(), phase))) << phase;
  }
  EXPECT_TRUE(PodStore::Open(store_->root()));  // again: fine
}

TEST_F(PodStoreTest, PrepareThenRunThenExit) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod) << pod.error().ToString();
  std::string uuid = pod->uuid();
  EXPECT_TRUE(IsValidUuid(uuid));
  EXPECT_TRUE(pod->locked());
  EXPECT_EQ(pod->phase_dir(), "prepare");
  EXPECT_EQ(pod->path(), store_->root() + "/prepare/" + uuid);
  EXPECT_TRUE(os::IsDirectory(pod->path()));
  EXPECT_FALSE(os::Exists(store_->root() + "/embryo/" + uuid));
  EXPECT_EQ(StateOf(uuid), PodState::kPreparing);

  ASSERT_TRUE(pod->FinishPrepare());
  EXPECT_FALSE(pod->locked());
  EXPECT_EQ(pod->phase_dir(), "prepared");
  EXPECT_EQ(StateOf(uuid), PodState::kPrepared);
  EXPECT_FALSE(pod->StartRunning());  // no longer preparing

  auto running = store_->StartPrepared(uuid);
  ASSERT_TRUE(running) << running.error().ToString();
  EXPECT_EQ(running->path(), store_->root() + "/run/" + uuid);
  EXPECT_EQ(StateOf(uuid), PodState::kRunning);
  auto again = store_->StartPrepared(uuid);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ENOENT);

  running = store_->CreatePreparing();  // drops the lock of the first pod: it exited
  EXPECT_EQ(StateOf(uuid), PodState::kExited);
}

TEST_F(PodStoreTest, RunDirectlyKeepsTheLock) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod);
  ASSERT_TRUE(pod->StartRunning());
  EXPECT_TRUE(pod->locked());
  EXPECT_EQ(pod->phase_dir(), "run");
  EXPECT_EQ(StateOf(pod->uuid()), PodState::kRunning);
  auto entry = store_->Refresh(pod->uuid());
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->path, pod->path());
  EXPECT_FALSE(entry->gc_marked);
}

TEST_F(PodStoreTest, StateTable) {
  // prepare/: locked = preparing, unlocked = aborted prepare.
  std::string aborted;
  {
    auto pod = store_->CreatePreparing();
    ASSERT_TRUE(pod);
    aborted = pod->uuid();
  }
  EXPECT_EQ(StateOf(aborted), PodState::kAbortedPrepare);
  // garbage/: locked = deleting, unlocked = garbage.
  {
    auto pod = store_->CreatePreparing();
    ASSERT_TRUE(pod);
    ASSERT_TRUE(pod->AbortPrepare());
    EXPECT_EQ(pod->phase_dir(), "garbage");
    EXPECT_EQ(StateOf(pod->uuid()), PodState::kDeleting);
    std::string uuid = pod->uuid();
    pod = store_->CreatePreparing();
    EXPECT_EQ(StateOf(uuid), PodState::kGarbage);
    EXPECT_TRUE(store_->Refresh(uuid)->gc_marked);
  }
  // exited-garbage/: locked = deleting, unlocked = exited (gc-marked).
  std::string exited = Exited();
  ASSERT_TRUE(store_->MarkExited(exited));
  auto entry = store_->Refresh(exited);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->phase_dir, "exited-garbage");
  EXPECT_EQ(entry->state, PodState::kExited);
  EXPECT_TRUE(entry->gc_marked);
  {
    auto locked = store_->LockForRemoval(exited);
    ASSERT_TRUE(locked) << locked.error().ToString();
    EXPECT_EQ(StateOf(exited), PodState::kDeleting);
  }
  // embryo/ is embryo whatever the lock.
  ASSERT_EQ(mkdir((store_->root() + "/embryo/0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f").c_str(), 0750),
            0);
  EXPECT_EQ(StateOf("0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f"), PodState::kEmbryo);
  EXPECT_EQ(PodStateName(PodState::kAbortedPrepare), "aborted prepare");
  EXPECT_EQ(PodStateName(PodState::kExited), "exited");
}

TEST_F(PodStoreTest, ListIsSortedAndSkipsStrangers) {
  std::vector<std::string> uuids;
  uuids.reserve(3);
  for (int i = 0; i < 3; ++i) {
    uuids.push_back(Prepared());
  }
  auto running = store_->CreatePreparing();
  ASSERT_TRUE(running);
  ASSERT_TRUE(running->StartRunning());
  uuids.push_back(running->uuid());
  std::sort(uuids.begin(), uuids.end());
  ASSERT_TRUE(os::MkdirAll(store_->root() + "/run/not-a-uuid"));
  ASSERT_TRUE(os::WriteFile(store_->root() + "/prepared/.tmp", ""));
  auto list = store_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->size(), 4u);
  for (size_t i = 0; i < uuids.size(); ++i) {
    EXPECT_EQ((*list)[i].uuid, uuids[i]);
    EXPECT_EQ((*list)[i].state,
              uuids[i] == running->uuid() ? PodState::kRunning : PodState::kPrepared);
    EXPECT_GT((*list)[i].phase_since.time_since_epoch().count(), 0);
  }
}

TEST_F(PodStoreTest, FindByPrefix) {
  auto a = store_->CreatePreparing("aaaa0000-0000-4000-8000-000000000001");
  auto b = store_->CreatePreparing("aaaa1111-0000-4000-8000-000000000002");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(store_->Find("aaaa0000-0000-4000-8000-000000000001")->uuid, a->uuid());
  EXPECT_EQ(store_->Find("aaaa0")->uuid, a->uuid());
  EXPECT_EQ(store_->Find("AAAA1")->uuid, b->uuid());
  auto ambiguous = store_->Find("aaaa");
  ASSERT_FALSE(ambiguous);
  EXPECT_THAT(ambiguous.error().message(), HasSubstr("ambiguous"));
  auto none = store_->Find("bbbb");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ENOENT);
  EXPECT_THAT(none.error().message(), HasSubstr("bbbb"));
  for (const char* bad : {"aaa", "", "../x", "aaaa/", "zzzzzz"}) {
    auto r = store_->Find(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), EINVAL) << bad;
  }
  auto gone = store_->Find("cccc0000-0000-4000-8000-000000000001");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ENOENT);
}

TEST_F(PodStoreTest, CreateWithAnExistingUuidFails) {
  auto a = store_->CreatePreparing("aaaa0000-0000-4000-8000-000000000001");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->FinishPrepare());
  auto b = store_->CreatePreparing("aaaa0000-0000-4000-8000-000000000001");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), EEXIST);
  EXPECT_FALSE(store_->CreatePreparing("../../etc"));
  EXPECT_EQ(StateOf("aaaa0000-0000-4000-8000-000000000001"), PodState::kPrepared);
}

TEST_F(PodStoreTest, MarkExited) {
  auto running = store_->CreatePreparing();
  ASSERT_TRUE(running);
  ASSERT_TRUE(running->StartRunning());
  auto busy = store_->MarkExited(running->uuid());
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), EBUSY);
  std::string uuid = running->uuid();
  running = store_->CreatePreparing();  // the first one exits
  ASSERT_TRUE(store_->MarkExited(uuid));
  EXPECT_TRUE(os::IsDirectory(store_->root() + "/exited-garbage/" + uuid));
  EXPECT_TRUE(store_->MarkExited(uuid));  // already moved: fine
  EXPECT_FALSE(store_->MarkExited("nope"));
}

TEST_F(PodStoreTest, MarkGarbage) {
  std::string aborted;
  {
    auto pod = store_->CreatePreparing();
    ASSERT_TRUE(pod);
    aborted = pod->uuid();
    auto busy = store_->MarkGarbage(aborted);  // its preparer holds it
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code(), EBUSY);
  }
  ASSERT_TRUE(store_->MarkGarbage(aborted));
  EXPECT_EQ(store_->Refresh(aborted)->phase_dir, "garbage");
  std::string prepared = Prepared();
  ASSERT_TRUE(store_->MarkGarbage(prepared));
  EXPECT_EQ(StateOf(prepared), PodState::kGarbage);
  // A running pod is not touched.
  auto running = store_->CreatePreparing();
  ASSERT_TRUE(running && running->StartRunning());
  EXPECT_TRUE(store_->MarkGarbage(running->uuid()));
  EXPECT_EQ(StateOf(running->uuid()), PodState::kRunning);
  // A crashed embryo.
  std::string embryo = "0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f";
  ASSERT_EQ(mkdir((store_->root() + "/embryo/" + embryo).c_str(), 0750), 0);
  ASSERT_TRUE(store_->MarkGarbage(embryo));
  EXPECT_EQ(StateOf(embryo), PodState::kGarbage);
}

TEST_F(PodStoreTest, LockForRemovalAndRemove) {
  std::string uuid = Exited();
  auto not_marked = store_->LockForRemoval(uuid);
  ASSERT_FALSE(not_marked);
  EXPECT_EQ(not_marked.error().code(), ENOENT);
  ASSERT_TRUE(store_->MarkExited(uuid));
  auto pod = store_->LockForRemoval(uuid);
  ASSERT_TRUE(pod) << pod.error().ToString();
  ASSERT_TRUE(os::WriteFile(pod->path() + "/pod", "{}"));
  ASSERT_TRUE(os::MkdirAll(pod->path() + "/apps/web/rootfs"));
  // Another process cannot take it meanwhile.
  int code = Wait(Fork([&] {
    auto other = store_->LockForRemoval(uuid);
    return !other && other.error().code() == EBUSY ? 0 : 1;
  }));
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(store_->Remove(std::move(*pod)));
  auto gone = store_->Refresh(uuid);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ENOENT);
  EXPECT_EQ(store_->LockForRemoval(uuid).error().code(), ENOENT);
}

TEST_F(PodStoreTest, AbortedPrepareIsRemovedWithItsOwnLock) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod);
  ASSERT_TRUE(pod->AbortPrepare());
  std::string uuid = pod->uuid();
  ASSERT_TRUE(store_->Remove(std::move(*pod)));
  EXPECT_EQ(store_->Refresh(uuid).error().code(), ENOENT);
}

TEST_F(PodStoreTest, RemoveNeedsTheLock) {
  std::string uuid = Prepared();
  ASSERT_TRUE(store_->MarkGarbage(uuid));
  auto pod = store_->LockForRemoval(uuid);
  ASSERT_TRUE(pod);
  auto fd = pod->ReleaseLockForExec();
  ASSERT_TRUE(fd);
  close(*fd);
  EXPECT_FALSE(store_->Remove(std::move(*pod)));
  EXPECT_TRUE(store_->Refresh(uuid));
}

// The lock is the pod's liveness: held by another process = running; its exit = exited.
TEST_F(PodStoreTest, LockHeldByAnotherProcess) {
  std::string uuid = Prepared();
  Holder holder([&] {
    auto pod = store_->StartPrepared(uuid);
    if (!pod) {
      return false;
    }
    (void)pod->ReleaseLockForExec();  // keep the fd open past the Pod
    return true;
  });
  ASSERT_TRUE(holder.holding());
  EXPECT_EQ(StateOf(uuid), PodState::kRunning);
  EXPECT_EQ(store_->MarkExited(uuid).error().code(), EBUSY);
  auto waited = store_->WaitExited(uuid, milliseconds(100));
  ASSERT_TRUE(waited);
  EXPECT_FALSE(*waited);
  holder.Stop();
  EXPECT_EQ(StateOf(uuid), PodState::kExited);
  EXPECT_TRUE(store_->WaitExited(uuid, milliseconds(0)).value());
}

TEST_F(PodStoreTest, WaitExitedWakesUpWhenTheHolderExits) {
  for (bool with_timeout : {false, true}) {
    auto pod = store_->CreatePreparing();
    ASSERT_TRUE(pod);
    std::string uuid = pod->uuid();
    ASSERT_TRUE(pod->FinishPrepare());
    int started[2];
    ASSERT_EQ(pipe2(started, O_CLOEXEC), 0);
    pid_t child = Fork([&] {
      auto running = store_->StartPrepared(uuid);
      (void)!write(started[1], running ? "y" : "n", 1);
      usleep(200 * 1000);
      return 0;
    });
    close(started[1]);
    char c = 'n';
    ASSERT_EQ(read(started[0], &c, 1), 1);
    close(started[0]);
    ASSERT_EQ(c, 'y');
    auto begin = std::chrono::steady_clock::now();
    auto timeout = with_timeout ? std::optional(milliseconds(10000)) : std::nullopt;
    auto waited = store_->WaitExited(uuid, timeout);
    auto took = std::chrono::steady_clock::now() - begin;
    ASSERT_TRUE(waited) << waited.error().ToString();
    EXPECT_TRUE(*waited);
    EXPECT_GE(took, milliseconds(100));
    EXPECT_LT(took, milliseconds(5000));
    EXPECT_EQ(Wait(child), 0);
  }
  EXPECT_EQ(store_->WaitExited("0d9b5b3c-7a2e-4c1f-9e4b-2f6a8c1d3e5f", std::nullopt).error().code(),
            ENOENT);
}

TEST_F(PodStoreTest, WaitExitedOnAPreparedPodTimesOut) {
  std::string uuid = Prepared();
  auto waited = store_->WaitExited(uuid, milliseconds(150));
  ASSERT_TRUE(waited);
  EXPECT_FALSE(*waited);
}

TEST_F(PodStoreTest, ReleaseLockForExecHandsOverAnInheritableFd) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod);
  ASSERT_TRUE(pod->StartRunning());
  std::string uuid = pod->uuid();
  auto fd = pod->ReleaseLockForExec();
  ASSERT_TRUE(fd) << fd.error().ToString();
  EXPECT_FALSE(pod->locked());
  EXPECT_EQ(fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_FALSE(pod->ReleaseLockForExec());
  // The pod stays locked through the fd; exec'd programs inherit it (the supervisor does).
  EXPECT_EQ(StateOf(uuid), PodState::kRunning);
  pid_t child = Fork([&] {
    // Outlives the parent's copy: the lock belongs to the open file description.
    usleep(100 * 1000);
    return 0;
  });
  close(*fd);
  EXPECT_EQ(StateOf(uuid), PodState::kRunning);
  EXPECT_EQ(Wait(child), 0);
  EXPECT_EQ(StateOf(uuid), PodState::kExited);
}

// Runs `body` in `n` processes released at once; returns their exit codes.
std::vector<int> Race(int n, const std::function<int()>& body) {
  StartGate gate;
  std::vector<pid_t> children;
  children.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    children.push_back(Fork([&] {
      gate.WaitOpen();
      return body();
    }));
  }
  gate.Release();
  std::vector<int> codes;
  codes.reserve(children.size());
  for (pid_t pid : children) {
    codes.push_back(Wait(pid));
  }
  return codes;
}

int Count(const std::vector<int>& codes, int code) {
  return static_cast<int>(std::count(codes.begin(), codes.end(), code));
}

// Exit codes of the racers: 0 = won, 1 = lost cleanly (the documented error), 2 = anything else.
TEST_F(PodStoreTest, RaceStartPreparedHasOneWinner) {
  for (int round = 0; round < 20; ++round) {
    std::string uuid = Prepared();
    auto codes = Race(6, [&] {
      auto pod = store_->StartPrepared(uuid);
      if (pod) {
        return 0;
      }
      int err = pod.error().code();
      return err == ENOENT || err == EWOULDBLOCK ? 1 : 2;
    });
    EXPECT_EQ(Count(codes, 0), 1) << "round " << round;
    EXPECT_EQ(Count(codes, 1), 5) << "round " << round;
    EXPECT_EQ(store_->Refresh(uuid)->phase_dir, "run");
  }
}

TEST_F(PodStoreTest, RaceCreateWithTheSameUuidHasOneWinner) {
  for (int round = 0; round < 20; ++round) {
    std::string uuid = NewUuid();
    auto codes = Race(6, [&] {
      auto pod = store_->CreatePreparing(uuid);
      if (pod) {
        return pod->FinishPrepare() ? 0 : 2;
      }
      return pod.error().code() == EEXIST || pod.error().code() == ENOENT ? 1 : 2;
    });
    EXPECT_EQ(Count(codes, 0), 1) << "round " << round;
    EXPECT_EQ(Count(codes, 1), 5) << "round " << round;
    EXPECT_EQ(StateOf(uuid), PodState::kPrepared);
  }
}

TEST_F(PodStoreTest, RaceRemovalHasOneWinner) {
  for (int round = 0; round < 20; ++round) {
    std::string uuid = Exited();
    ASSERT_TRUE(store_->MarkExited(uuid));
    auto codes = Race(6, [&] {
      auto pod = store_->LockForRemoval(uuid);
      if (!pod) {
        int err = pod.error().code();
        return err == EBUSY || err == ENOENT ? 1 : 2;
      }
      return store_->Remove(std::move(*pod)) ? 0 : 2;
    });
    EXPECT_EQ(Count(codes, 0), 1) << "round " << round;
    EXPECT_EQ(Count(codes, 1), 5) << "round " << round;
    EXPECT_EQ(store_->Refresh(uuid).error().code(), ENOENT);
  }
}

TEST_F(PodStoreTest, RaceMarkingIsHarmless) {
  for (int round = 0; round < 10; ++round) {
    std::string exited = Exited();
    std::string prepared = Prepared();
    auto codes = Race(
        6, [&] { return store_->MarkExited(exited) && store_->MarkGarbage(prepared) ? 0 : 2; });
    EXPECT_EQ(Count(codes, 0), 6);
    EXPECT_EQ(store_->Refresh(exited)->phase_dir, "exited-garbage");
    EXPECT_EQ(store_->Refresh(prepared)->phase_dir, "garbage");
  }
}

// run-prepared racing gc's MarkGarbage on the same prepared pod: it ends up either running (and
// not in garbage) or in garbage (and run-prepared failed), never both.
TEST_F(PodStoreTest, RaceStartPreparedAgainstMarkGarbage) {
  for (int round = 0; round < 20; ++round) {
    std::string uuid = Prepared();
    StartGate gate;
    int result[2];
    ASSERT_EQ(pipe2(result, O_CLOEXEC), 0);
    pid_t starter = Fork([&] {
      gate.WaitOpen();
      auto pod = store_->StartPrepared(uuid);
      (void)!write(result[1], pod ? "r" : "n", 1);
      return 0;
    });
    pid_t marker = Fork([&] {
      gate.WaitOpen();
      auto st = store_->MarkGarbage(uuid);
      return st || st.error().code() == EBUSY ? 0 : 2;
    });
    gate.Release();
    close(result[1]);
    EXPECT_EQ(Wait(starter), 0);
    EXPECT_EQ(Wait(marker), 0);
    char started = 'n';
    ASSERT_EQ(read(result[0], &started, 1), 1);
    close(result[0]);
    auto entry = store_->Refresh(uuid);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->phase_dir, started == 'r' ? "run" : "garbage") << "round " << round;
  }
}

// In a pods directory shared with the api-service's group (os/group_dir.h), a pod directory is
// shared but its apps/ and volumes/ are not; elsewhere a new pod directory is empty.
TEST_F(PodStoreTest, ASharedPodKeepsItsAppsDataUnshared) {
  auto plain = store_->CreatePreparing();
  ASSERT_TRUE(plain);
  EXPECT_FALSE(os::Exists(os::JoinPath(plain->path(), "apps")));
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a directory another group";
  }
  const gid_t group = ::getegid() == 4242 ? 4243 : 4242;
  ASSERT_TRUE(os::ShareDirectory(store_->root(), group, 0750));
  for (const char* phase : kPhaseDirs) {
    ASSERT_TRUE(os::ShareDirectory(os::JoinPath(store_->root(), phase), group, 0750));
  }
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod) << pod.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(pod->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
  for (const char* own : {"apps", "volumes"}) {
    const std::string path = os::JoinPath(pod->path(), own);
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_gid, ::getegid()) << path;
    EXPECT_EQ(st.st_mode & S_ISGID, 0u) << path;
  }
}

}  // namespace
}  // namespace comet::pod
