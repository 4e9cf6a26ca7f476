#include "supervisor/user_lookup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::supervisor {
namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "broken line\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "web:x:1000:1001::/home/web:/bin/sh\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "wheel:x:10:web,other\n"
    "web:x:1001:\n"
    "audio:x:29:other, web\n";

TEST(UserLookupTest, ParsesPasswd) {
  auto web = FindPasswdEntry(kPasswd, "web");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->uid, 1000U);
  EXPECT_EQ(web->gid, 1001U);
  EXPECT_EQ(web->home, "/home/web");
  auto by_uid = FindPasswdEntry(kPasswd, "1");
  ASSERT_TRUE(by_uid);
  EXPECT_EQ(by_uid->name, "daemon");
  EXPECT_FALSE(FindPasswdEntry(kPasswd, "nobody"));
  EXPECT_FALSE(FindPasswdEntry(kPasswd, "broken line"));
}

TEST(UserLookupTest, ParsesGroups) {
  EXPECT_EQ(FindGroupId(kGroup, "wheel"), 10U);
  EXPECT_FALSE(FindGroupId(kGroup, "nope"));
  EXPECT_EQ(FindMemberGroups(kGroup, "web"), (std::vector<uint32_t>{10, 29}));
  EXPECT_TRUE(FindMemberGroups(kGroup, "root").empty());
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("user-lookup-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    rootfs_ = dir_->path() + "/rootfs";
    ASSERT_TRUE(os::MkdirAll(rootfs_ + "/etc"));
  }
  std::optional<os::TempDir> dir_;
  std::string rootfs_;
};

TEST_F(RootfsTest, ResolvesNamesFromTheImage) {
  ASSERT_TRUE(os::WriteFile(rootfs_ + "/etc/passwd", kPasswd));
  ASSERT_TRUE(os::WriteFile(rootfs_ + "/etc/group", kGroup));
  auto user = ResolveUser(rootfs_, "web", "", {7});
  ASSERT_TRUE(user) << user.error().ToString();
  EXPECT_EQ(user->uid, 1000U);
  EXPECT_EQ(user->gid, 1001U);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{10, 29, 7}));
  EXPECT_EQ(user->home, "/home/web");

  user = ResolveUser(rootfs_, "web", "wheel", {});
  ASSERT_TRUE(user);
  EXPECT_EQ(user->gid, 10U);
  user = ResolveUser(rootfs_, "1234", "55", {});
  ASSERT_TRUE(user);
  EXPECT_EQ(user->uid, 1234U);
  EXPECT_EQ(user->gid, 55U);

  auto missing = ResolveUser(rootfs_, "nobody", "0", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().ToString().find("nobody"), std::string::npos);
  EXPECT_FALSE(ResolveUser(rootfs_, "0", "nogroup", {}));
}

TEST_F(RootfsTest, NumericIdsNeedNoFiles) {
  auto user = ResolveUser(rootfs_, "0", "0", {});
  ASSERT_TRUE(user) << user.error().ToString();
  EXPECT_EQ(user->uid, 0U);
  EXPECT_FALSE(ResolveUser(rootfs_, "web", "0", {}));
}

TEST_F(RootfsTest, SymlinksStayInsideTheRootfs) {
  // An image's /etc/passwd pointing at an absolute path resolves inside the rootfs, never at
  // the host's file.
  std::string host_dir = dir_->path() + "/host";
  ASSERT_TRUE(os::MkdirAll(host_dir));
  ASSERT_TRUE(os::WriteFile(host_dir + "/passwd", "evil:x:4242:4242::/:/bin/sh\n"));
  ASSERT_EQ(::symlink((host_dir + "/passwd").c_str(), (rootfs_ + "/etc/passwd").c_str()), 0);
  EXPECT_FALSE(ResolveUser(rootfs_, "evil", "", {}));
  ASSERT_EQ(::unlink((rootfs_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../etc/shadow", (rootfs_ + "/etc/passwd").c_str()), 0);
  auto read = ReadFileInRoot(rootfs_, "/etc/passwd", 1024);
  EXPECT_FALSE(read);
}

TEST_F(RootfsTest, RefusesNonRegularFiles) {
  ASSERT_EQ(::mkfifo((rootfs_ + "/etc/passwd").c_str(), 0644), 0);
  auto user = ResolveUser(rootfs_, "web", "", {});
  ASSERT_FALSE(user);
  EXPECT_NE(user.error().ToString().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace comet::supervisor
