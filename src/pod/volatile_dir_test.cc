// Tests for a pod's volatile directory: the state link, readers through it, persisting the final
// statuses on disk, and removal that trusts only this pod's target.
#include "pod/volatile_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "os/file.h"
#include "os/group_dir.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/teardown.h"

namespace comet::pod {
namespace {

using ::testing::HasSubstr;

class VolatileDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create();
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    uuid_ = NewUuid();
    pod_ = tmp_->path() + "/pods/run/" + uuid_;
    root_ = tmp_->path() + "/v/pods";
    ASSERT_TRUE(os::MkdirAll(pod_, 0750));
  }

  std::string Link() const { return pod_ + "/state"; }
  std::string Target() const { return root_ + "/" + uuid_; }

  // What a supervisor leaves in its volatile directory by the time it finishes.
  void WriteRunningState() {
    ASSERT_TRUE(EnsureVolatileDir(pod_, root_));
    ASSERT_TRUE(WritePodPid(pod_, 1234));
    SupervisorStatus supervisor{
        .pid = 1234, .started = "s", .finished = "f", .ready = true, .exit_code = 3};
    ASSERT_TRUE(WriteSupervisorStatus(pod_, supervisor));
    ASSERT_EQ(::symlink("ready", (pod_ + "/" + kReadyLink).c_str()), 0);
    for (const char* app : {"web", "db"}) {
      ASSERT_TRUE(MakeAppDirs(pod_, app));
      AppStatus status;
      status.name = app;
      status.state = AppState::kExited;
      status.exit_code = 3;
      ASSERT_TRUE(WriteAppStatus(pod_, status));
      ASSERT_TRUE(os::WriteFile(os::JoinPath(AppDir(pod_, app), "config.json"), "{}"));
    }
    ASSERT_TRUE(os::MkdirAll(RuntimeRoot(pod_)));
    ASSERT_TRUE(os::MkdirAll(pod_ + "/state/etc"));
    ASSERT_TRUE(os::WriteFile(PodEtcPath(pod_, "hosts"), "127.0.0.1 localhost\n"));
  }

  std::optional<os::TempDir> tmp_;
  std::string uuid_;
  std::string pod_;
  std::string root_;
};

TEST_F(VolatileDirTest, LinkLeadsToADirectoryUnderTheRoot) {
  for (int i = 0; i < 2; ++i) {  // idempotent
    auto made = EnsureVolatileDir(pod_, root_);
    ASSERT_TRUE(made) << made.error().ToString();
  }
  char target[4096] = {};
  ASSERT_GT(::readlink(Link().c_str(), target, sizeof(target) - 1), 0);
  EXPECT_EQ(std::string(target), Target());
  struct stat st {};
  ASSERT_EQ(::lstat(Target().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750U);
  ASSERT_EQ(::lstat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  // Writers and readers go through the link.
  ASSERT_TRUE(WritePodPid(pod_, 42));
  EXPECT_TRUE(os::Exists(Target() + "/pid"));
  EXPECT_EQ(ReadPodPid(pod_).value(), 42);
}

TEST_F(VolatileDirTest, ADanglingLinkReadsAsNotFound) {
  WriteRunningState();
  ASSERT_TRUE(os::RemoveAll(root_));  // a reboot
  EXPECT_EQ(ReadPodPid(pod_).error().code(), ENOENT);
  EXPECT_EQ(ReadSupervisorStatus(pod_).error().code(), ENOENT);
  EXPECT_EQ(ReadAppStatus(pod_, "web").error().code(), ENOENT);
  // A supervisor starting then makes the directory again.
  ASSERT_TRUE(EnsureVolatileDir(pod_, root_));
  EXPECT_TRUE(os::IsDirectory(Target()));
}

TEST_F(VolatileDirTest, PersistKeepsTheFinalStatusesOnDisk) {
  WriteRunningState();
  for (int i = 0; i < 2; ++i) {  // the second finds a directory: nothing to do
    auto kept = PersistVolatileDir(pod_);
    ASSERT_TRUE(kept) << kept.error().ToString();
  }
  struct stat st {};
  ASSERT_EQ(::lstat(Link().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_FALSE(os::Exists(Target())) << "the volatile directory must go";
  EXPECT_FALSE(os::Exists(pod_ + "/.state.new"));
  EXPECT_EQ(ReadPodPid(pod_).value(), 1234);
  EXPECT_EQ(ReadSupervisorStatus(pod_).value().exit_code, 3);
  EXPECT_EQ(ReadAppStatus(pod_, "db").value().exit_code, 3);
  EXPECT_EQ(ReadAppStatus(pod_, "web").value().state, AppState::kExited);
  char target[16] = {};
  EXPECT_EQ(::readlink((pod_ + "/" + kReadyLink).c_str(), target, sizeof(target)), 5);
  // Only the statuses: no config, runtime state or /etc files.
  EXPECT_FALSE(os::Exists(os::JoinPath(AppDir(pod_, "web"), "config.json")));
  EXPECT_FALSE(os::Exists(RuntimeRoot(pod_)));
  EXPECT_FALSE(os::Exists(PodEtcPath(pod_, "hosts")));
  // Removal leaves a persisted directory to the pod directory's own removal.
  EXPECT_TRUE(RemoveVolatileDir(pod_, uuid_));
  EXPECT_TRUE(os::Exists(AppStatusPath(pod_, "web")));
}

TEST_F(VolatileDirTest, PersistLeavesContainersThatAreLeftToGc) {
  WriteRunningState();
  ASSERT_TRUE(os::MkdirAll(RuntimeRoot(pod_) + "/web"));
  auto kept = PersistVolatileDir(pod_);
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().code(), EBUSY);
  struct stat st {};
  ASSERT_EQ(::lstat(Link().c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(os::Exists(RuntimeRoot(pod_) + "/web"));
}

TEST_F(VolatileDirTest, RemoveIsIdempotentAndDoesNotFollowLinksInside) {
  WriteRunningState();
  const std::string outside = tmp_->path() + "/outside";
  ASSERT_TRUE(os::MkdirAll(outside));
  ASSERT_TRUE(os::WriteFile(outside + "/keep", "x"));
  ASSERT_EQ(::symlink(outside.c_str(), (Target() + "/planted").c_str()), 0);
  for (int i = 0; i < 2; ++i) {
    auto removed = RemoveVolatileDir(pod_, uuid_);
    ASSERT_TRUE(removed) << removed.error().ToString();
  }
  EXPECT_FALSE(os::Exists(Target()));
  EXPECT_TRUE(os::Exists(outside + "/keep"));
  // No link at all (a pod whose supervisor never started) is fine too.
  ASSERT_EQ(::unlink(Link().c_str()), 0);
  EXPECT_TRUE(RemoveVolatileDir(pod_, uuid_));
}

TEST_F(VolatileDirTest, RemoveTrustsOnlyThisPodsTarget) {
  const std::string other = tmp_->path() + "/precious";
  ASSERT_TRUE(os::MkdirAll(other));
  for (const std::string& target :
       {other, root_ + "/" + NewUuid(), root_ + "/../precious", "relative/pods/" + uuid_,
        tmp_->path() + "/pods/../precious/pods/" + uuid_}) {
    (void)::unlink(Link().c_str());
    ASSERT_EQ(::symlink(target.c_str(), Link().c_str()), 0);
    auto removed = RemoveVolatileDir(pod_, uuid_);
    ASSERT_FALSE(removed) << target;
    EXPECT_EQ(removed.error().code(), EPERM) << target;
    EXPECT_TRUE(os::IsDirectory(other));
  }
}

TEST_F(VolatileDirTest, RemoveRefusesARootOthersMayWrite) {
  WriteRunningState();
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  auto removed = RemoveVolatileDir(pod_, uuid_);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code(), EPERM);
  EXPECT_TRUE(os::IsDirectory(Target()));
  ASSERT_EQ(::chmod(root_.c_str(), 0700), 0);
  EXPECT_TRUE(RemoveVolatileDir(pod_, uuid_));
  EXPECT_FALSE(os::Exists(Target()));
}

TEST_F(VolatileDirTest, TeardownRemovesTheVolatileDirectory) {
  WriteRunningState();
  for (int i = 0; i < 2; ++i) {
    auto st = TeardownPod(pod_, uuid_, {});
    ASSERT_TRUE(st) << st.error().ToString();
  }
  EXPECT_FALSE(os::Exists(Target()));
  EXPECT_TRUE(os::IsDirectory(root_));
}

TEST_F(VolatileDirTest, TeardownGoesNowhereThroughAnUntrustedLink) {
  // A root others may write to: what the link leads to could be anyone's. Teardown must not act
  // on it (kill containers by its runtime state, remove it): it drops the link and goes on.
  WriteRunningState();
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  auto st = TeardownPod(pod_, uuid_, {});
  ASSERT_TRUE(st) << st.error().ToString();
  struct stat link {};
  EXPECT_NE(::lstat(Link().c_str(), &link), 0);
  EXPECT_TRUE(os::IsDirectory(Target() + "/runtime"));
  EXPECT_TRUE(os::Exists(Target() + "/supervisor.json"));
  ASSERT_EQ(::chmod(root_.c_str(), 0700), 0);
}

TEST_F(VolatileDirTest, RefusesARootOthersMayWrite) {
  ASSERT_TRUE(os::MkdirAll(root_, 0700));
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  auto made = EnsureVolatileDir(pod_, root_);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code(), EPERM);
  EXPECT_THAT(made.error().ToString(), HasSubstr(root_));
}

TEST_F(VolatileDirTest, RefusesAPodDirectoryThatIsNotNamedByAUuid) {
  const std::string bad = tmp_->path() + "/not-a-pod";
  ASSERT_TRUE(os::MkdirAll(bad));
  EXPECT_FALSE(EnsureVolatileDir(bad, root_));
  EXPECT_FALSE(os::Exists(bad + "/state"));
}

TEST(VolatileRootTest, DependsOnWhoRuns) {
  const std::string root = VolatileRoot();
  auto map = os::ReadFile("/proc/self/uid_map");
  const bool initial = !map || map->find("4294967295") != std::string::npos;  // "0 0 4294967295"
  if (::geteuid() == 0 && initial) {
    EXPECT_EQ(root, "/run/comet/pods");
  } else {
    EXPECT_TRUE(root.ends_with("/comet/pods") ||
                root == "/tmp/comet-" + std::to_string(::getuid()) + "/pods")
        << root;
  }
}

// A pod directory shared with the api-service's group (os/group_dir.h) has its volatile
// directory shared too, but not its etc/ (bind-mounted into the apps); `comet install` shares the
// volatile directory of a pod made before (ShareVolatileDir).
TEST_F(VolatileDirTest, FollowsThePodDirectorysGroup) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a directory another group";
  }
  const gid_t group = ::getegid() == 4242 ? 4243 : 4242;
  ASSERT_TRUE(os::ShareDirectory(pod_, group, 0750));
  WriteRunningState();
  struct stat st {};
  ASSERT_EQ(::stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
  ASSERT_EQ(::stat((pod_ + "/" + kSupervisorStatusFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  ASSERT_EQ(::stat(AppStatusPath(pod_, "web").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  ASSERT_EQ(::stat(PodEtcPath(pod_, "hosts").c_str(), &st), 0);
  EXPECT_NE(st.st_gid, group);
  ASSERT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_NE(st.st_gid, group);  // the root serves every data directory

  // Made unshared, then shared by ShareVolatileDir.
  ASSERT_EQ(::chown(Target().c_str(), static_cast<uid_t>(-1), ::getegid()), 0);
  ASSERT_EQ(::chmod(Target().c_str(), 0750), 0);
  ASSERT_EQ(::chown(AppStatusPath(pod_, "web").c_str(), static_cast<uid_t>(-1), ::getegid()), 0);
  ASSERT_TRUE(ShareVolatileDir(pod_, uuid_));
  ASSERT_EQ(::stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
  ASSERT_EQ(::stat(AppStatusPath(pod_, "web").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(VolatileDirTest, AnUnsharedPodDirectoryKeepsItsVolatileDirectoryPrivate) {
  WriteRunningState();
  struct stat st {};
  ASSERT_EQ(::stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
  EXPECT_EQ(st.st_mode & S_ISGID, 0u);
  ASSERT_TRUE(ShareVolatileDir(pod_, uuid_));  // nothing to share
  ASSERT_EQ(::stat(Target().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

}  // namespace
}  // namespace comet::pod
