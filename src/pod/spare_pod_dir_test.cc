// Tests for spare pod directories: what a removed pod leaves, what the next pod takes, and what
// is never taken (a spare still locked by its exiting pod, one with anything in it, one whose mode
// or group a new directory would not have).
#include "pod/spare_pod_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_store.h"

namespace comet::pod {
namespace {

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Whether someone holds an exclusive lock on the directory `path`.
bool LockedByAnyone(const std::string& path) {
  int fd = ::open(path.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return locked;
}

// Past the time a spare rests before a pod takes it.
void Rest() {
  std::this_thread::sleep_for(kSpareQuarantine + std::chrono::milliseconds(20));
}

class SparePodDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-spare-pods-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    pods_ = os::JoinPath(dir_->path(), "pods");
    auto store = PodStore::Open(pods_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_.emplace(std::move(*store));
  }

  [[nodiscard]] std::string Spares() const { return os::JoinPath(dir_->path(), "pod-spares"); }

  std::vector<std::string> SpareNames() const {
    auto names = os::ListDirectory(Spares());
    return names ? *names : std::vector<std::string>{};
  }

  // A pod directory as a run leaves it before its removal: files, a link, an app's directory
  // and the empty apps/ and volumes/.
  static void FillLikeARun(const std::string& pod_dir) {
    ASSERT_TRUE(os::WriteFile(os::JoinPath(pod_dir, "pod"), "{}"));
    ASSERT_EQ(::symlink("/run/comet/pods/x", os::JoinPath(pod_dir, "state").c_str()), 0);
    ASSERT_TRUE(os::MkdirAll(os::JoinPath(pod_dir, "logs/app"), 0750));
    ASSERT_TRUE(os::MkdirAll(os::JoinPath(pod_dir, "apps"), 0750));
    ASSERT_TRUE(os::MkdirAll(os::JoinPath(pod_dir, "volumes"), 0700));
  }

  // Recycles `count` pods that ran, all made before any is recycled (so that none takes
  // another's spare), their locks released afterwards (as when their supervisors exit); returns
  // the spares' paths.
  std::vector<std::string> RecycledPods(size_t count) {
    std::vector<Pod> pods;
    for (size_t i = 0; i < count; ++i) {
      auto pod = store_->CreatePreparing();
      EXPECT_TRUE(pod);
      if (!pod) {
        return {};
      }
      FillLikeARun(pod->path());
      pods.push_back(std::move(*pod));
    }
    std::vector<std::string> spares;
    for (const Pod& pod : pods) {
      EXPECT_TRUE(RecyclePodDir(pods_, pod.path(), pod.uuid()));
      spares.push_back(os::JoinPath(Spares(), pod.uuid()));
    }
    return spares;
  }

  std::string RecycledPod() {
    std::vector<std::string> spares = RecycledPods(1);
    return spares.empty() ? "" : spares.front();
  }

  std::optional<os::TempDir> dir_;
  std::string pods_;
  std::optional<PodStore> store_;
};

TEST_F(SparePodDirTest, SparesLieBesideThePodsDirectory) {
  EXPECT_EQ(SparePodDirsPath("/var/lib/comet/pods"), "/var/lib/comet/pod-spares");
  EXPECT_EQ(SparePodDirsPath("/var/lib/comet/pods//"), "/var/lib/comet/pod-spares");
  EXPECT_EQ(SparePodDirsPath("pods"), "./pod-spares");
}

TEST_F(SparePodDirTest, ARemovedPodLeavesItsEmptyDirectoriesForTheNextPod) {
  const std::string spare = RecycledPod();
  ASSERT_FALSE(spare.empty());
  auto left = os::ListDirectory(spare);
  ASSERT_TRUE(left);
  EXPECT_EQ(std::set<std::string>(left->begin(), left->end()),
            (std::set<std::string>{"apps", "volumes"}));
  struct stat st {};
  ASSERT_EQ(::lstat(Spares().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  const ino_t inode = InodeOf(spare);

  Rest();
  auto next = store_->CreatePreparing();
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(InodeOf(next->path()), inode);
  EXPECT_TRUE(SpareNames().empty());
  EXPECT_TRUE(next->locked());
  EXPECT_TRUE(LockedByAnyone(next->path()));
  auto inside = os::ListDirectory(next->path());
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->size(), 2U);
  // Nothing of it remains in the pods tree but the new pod.
  auto entries = store_->List();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1U);
  EXPECT_EQ(entries->front().uuid, next->uuid());
}

TEST_F(SparePodDirTest, ASpareItsPodStillLocksIsNotTaken) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod);
  FillLikeARun(pod->path());
  ASSERT_TRUE(RecyclePodDir(pods_, pod->path(), pod->uuid()));
  const std::string spare = os::JoinPath(Spares(), pod->uuid());
  Rest();
  // `pod` (its supervisor, exiting) still holds the lock.
  auto next = store_->CreatePreparing();
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_NE(InodeOf(next->path()), InodeOf(spare));
  EXPECT_EQ(SpareNames().size(), 1U);
}

// Waiters on the lock of a pod that just went must get it before a new pod takes its directory.
TEST_F(SparePodDirTest, AFreshSpareRestsFirst) {
  const std::string spare = RecycledPod();
  ASSERT_FALSE(spare.empty());
  const ino_t inode = InodeOf(spare);
  auto early = store_->CreatePreparing();
  ASSERT_TRUE(early) << early.error().ToString();
  EXPECT_NE(InodeOf(early->path()), inode);
  EXPECT_EQ(SpareNames().size(), 1U);
  Rest();
  auto later = store_->CreatePreparing();
  ASSERT_TRUE(later) << later.error().ToString();
  EXPECT_EQ(InodeOf(later->path()), inode);
}

TEST_F(SparePodDirTest, OnlyACleanSpareIsTaken) {
  const std::vector<std::string> spares = RecycledPods(3);
  ASSERT_EQ(SpareNames().size(), 3U);
  // A file, something in apps/, a writable apps/; and a symlink in the pool.
  ASSERT_TRUE(os::WriteFile(os::JoinPath(spares[0], "pod"), "{}"));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(spares[1], "apps/x"), ""));
  ASSERT_EQ(::chmod(os::JoinPath(spares[2], "apps").c_str(), 0777), 0);
  ASSERT_EQ(::symlink(dir_->path().c_str(), os::JoinPath(Spares(), "link").c_str()), 0);
  Rest();
  auto next = store_->CreatePreparing();
  ASSERT_TRUE(next) << next.error().ToString();
  for (const std::string& spare : spares) {
    EXPECT_NE(InodeOf(next->path()), InodeOf(spare));
  }
  // Each bad one was removed on the way.
  EXPECT_TRUE(SpareNames().empty());
  auto inside = os::ListDirectory(next->path());
  ASSERT_TRUE(inside);
  EXPECT_TRUE(inside->empty());
}

// A pod made under another umask takes the spare with the mode a new directory would have.
TEST_F(SparePodDirTest, ASpareGetsTheModeOfTheUmask) {
  const mode_t old = ::umask(022);
  const std::string spare = RecycledPod();
  const ino_t inode = InodeOf(spare);
  Rest();
  ::umask(077);
  auto next = store_->CreatePreparing();
  ::umask(old);
  ASSERT_FALSE(spare.empty());
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(InodeOf(next->path()), inode);
  struct stat st {};
  ASSERT_EQ(::lstat(next->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
}

TEST_F(SparePodDirTest, AFullPoolRemovesThePod) {
  auto pod = store_->CreatePreparing();
  ASSERT_TRUE(pod);
  ASSERT_EQ(RecycledPods(kMaxSparePodDirs).size(), kMaxSparePodDirs);
  ASSERT_EQ(SpareNames().size(), kMaxSparePodDirs);
  const std::string path = pod->path();
  FillLikeARun(path);
  ASSERT_TRUE(RecyclePodDir(pods_, path, pod->uuid()));
  EXPECT_FALSE(os::Exists(path));
  EXPECT_FALSE(os::Exists(os::JoinPath(Spares(), pod->uuid())));
  EXPECT_EQ(SpareNames().size(), kMaxSparePodDirs);
}

}  // namespace
}  // namespace comet::pod
