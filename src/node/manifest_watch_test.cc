// Tests of ManifestWatch against real inotify: a manifest is seen once its writer closes it (not
// while it is written), when renamed in or out, and when removed; other names are not; a
// directory made after the watch opened is watched by Rearm.
#include "node/manifest_watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace comet::node {
namespace {

class ManifestWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-node-watch-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    manifests_ = os::JoinPath(dir_->path(), "manifests");
    ASSERT_TRUE(os::MkdirAll(manifests_, 0755));
    auto watch = ManifestWatch::Open(manifests_);
    ASSERT_TRUE(watch) << watch.error().ToString();
    watch_ = std::make_unique<ManifestWatch>(std::move(*watch));
    ASSERT_TRUE(watch_->watching());
  }
  // What Drain says about the events queued so far.
  bool Changed() {
    auto changed = watch_->Drain();
    EXPECT_TRUE(changed) << changed.error().ToString();
    return changed && *changed;
  }
  std::string In(const std::string& name) const { return os::JoinPath(manifests_, name); }

  std::unique_ptr<os::TempDir> dir_;
  std::string manifests_;
  std::unique_ptr<ManifestWatch> watch_;
};

TEST_F(ManifestWatchTest, AFileIsSeenWhenItsWriterClosesIt) {
  os::UniqueFd fd(::open(In("web.yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd);
  const std::string half = "apiVersion: v1\nkind: Pod\n";
  ASSERT_EQ(::write(fd.get(), half.data(), half.size()), static_cast<ssize_t>(half.size()));
  EXPECT_FALSE(Changed()) << "a manifest being written was reported before its writer closed it";
  fd.Reset();
  EXPECT_TRUE(Changed());
  EXPECT_FALSE(Changed());
}

TEST_F(ManifestWatchTest, RenamesInAndOutAndRemovalsAreSeen) {
  const std::string staged = os::JoinPath(dir_->path(), "web.yaml");
  ASSERT_TRUE(os::WriteFile(staged, "kind: Pod\n"));
  EXPECT_FALSE(Changed());
  ASSERT_EQ(::rename(staged.c_str(), In("web.yaml").c_str()), 0);
  EXPECT_TRUE(Changed());
  ASSERT_EQ(::rename(In("web.yaml").c_str(), staged.c_str()), 0);
  EXPECT_TRUE(Changed());
  ASSERT_TRUE(os::WriteFile(In("db.json"), "{}"));
  EXPECT_TRUE(Changed());
  ASSERT_EQ(::unlink(In("db.json").c_str()), 0);
  EXPECT_TRUE(Changed());
}

TEST_F(ManifestWatchTest, OtherNamesAreNot) {
  ASSERT_TRUE(os::WriteFile(In(".web.yaml.swp"), "x"));
  ASSERT_TRUE(os::WriteFile(In("README"), "x"));
  EXPECT_FALSE(Changed());
}

TEST_F(ManifestWatchTest, ADirectoryMadeLaterIsWatchedByRearm) {
  const std::string later = os::JoinPath(dir_->path(), "later");
  auto watch = ManifestWatch::Open(later);
  ASSERT_TRUE(watch) << watch.error().ToString();
  EXPECT_FALSE(watch->watching());
  EXPECT_FALSE(watch->Rearm());
  ASSERT_TRUE(os::MkdirAll(later, 0755));
  EXPECT_TRUE(watch->Rearm());
  ASSERT_TRUE(os::WriteFile(os::JoinPath(later, "web.yml"), "kind: Pod\n"));
  auto changed = watch->Drain();
  ASSERT_TRUE(changed) << changed.error().ToString();
  EXPECT_TRUE(*changed);
}

}  // namespace
}  // namespace comet::node
