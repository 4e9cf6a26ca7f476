#include "os/group_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::os {
namespace {

// A group other than our effective one that we may chown to: any as root, else a supplementary
// group of ours.
std::optional<gid_t> OtherGroup() {
  if (::geteuid() == 0) {
    return ::getegid() == 4242 ? 4243 : 4242;
  }
  std::vector<gid_t> groups(static_cast<size_t>(::getgroups(0, nullptr)));
  const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
  for (int i = 0; i < n; ++i) {
    if (groups[static_cast<size_t>(i)] != ::getegid()) {
      return groups[static_cast<size_t>(i)];
    }
  }
  return std::nullopt;
}

struct stat Stat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(GroupDirTest, LookupGroup) {
  auto root = LookupGroup("root");
  ASSERT_TRUE(root) << root.error().ToString();
  ASSERT_TRUE(root->has_value());
  EXPECT_EQ(**root, 0u);
  auto missing = LookupGroup("comet-no-such-group");
  ASSERT_TRUE(missing) << missing.error().ToString();
  EXPECT_FALSE(missing->has_value());
}

TEST(GroupDirTest, APlainDirectoryIsNotShared) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  EXPECT_FALSE(SharedGroup(dir->path()));
  EXPECT_FALSE(SharedGroup(JoinPath(dir->path(), "missing")));
  // Setgid with our own group shares nothing with anyone else.
  ASSERT_EQ(::chmod(dir->path().c_str(), 02750), 0);
  EXPECT_FALSE(SharedGroup(dir->path()));
  // MakeUnsharedDir is a plain mkdir there.
  const std::string sub = JoinPath(dir->path(), "sub");
  ASSERT_TRUE(MakeUnsharedDir(sub, 0700));
  ASSERT_TRUE(MakeUnsharedDir(sub, 0700));  // idempotent
  EXPECT_EQ(Stat(sub).st_gid, ::getegid());
}

TEST(GroupDirTest, ASharedDirectorySharesItsTreeButNotItsUnsharedSubtrees) {
  const std::optional<gid_t> group = OtherGroup();
  if (!group) {
    GTEST_SKIP() << "needs root or a supplementary group";
  }
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string shared = JoinPath(dir->path(), "data");
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_TRUE(ShareDirectory(shared, *group, 0750));
  EXPECT_EQ(Stat(shared).st_mode & 07777, 02750u);
  EXPECT_EQ(SharedGroup(shared), group);

  // What is made below inherits the group, directories the setgid bit too.
  const std::string pods = JoinPath(shared, "pods/run");
  ASSERT_TRUE(MkdirAll(pods, 0750));
  EXPECT_EQ(SharedGroup(pods), group);
  ASSERT_TRUE(WriteFile(JoinPath(pods, "f"), "x", 0640));
  EXPECT_EQ(Stat(JoinPath(pods, "f")).st_gid, *group);

  // An unshared subtree is ours alone again, down to the bottom.
  const std::string apps = JoinPath(shared, "apps");
  ASSERT_TRUE(MakeUnsharedDir(apps, 0750));
  EXPECT_EQ(Stat(apps).st_gid, ::getegid());
  EXPECT_EQ(Stat(apps).st_mode & 07777, 0750u);
  EXPECT_FALSE(SharedGroup(apps));
  ASSERT_TRUE(MkdirAll(JoinPath(apps, "a/rootfs"), 0755));
  EXPECT_EQ(Stat(JoinPath(apps, "a/rootfs")).st_gid, ::getegid());
  EXPECT_EQ(Stat(JoinPath(apps, "a/rootfs")).st_mode & S_ISGID, 0u);

  // A shared directory that already exists is unshared too.
  const std::string old = JoinPath(shared, "old");
  ASSERT_EQ(::mkdir(old.c_str(), 0700), 0);
  EXPECT_EQ(SharedGroup(old), group);
  ASSERT_TRUE(MakeUnsharedDir(old, 0700));
  EXPECT_FALSE(SharedGroup(old));
}

TEST(GroupDirTest, SymlinksAreRefused) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string target = JoinPath(dir->path(), "target");
  const std::string link = JoinPath(dir->path(), "link");
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto unshared = MakeUnsharedDir(link, 0700);
  ASSERT_FALSE(unshared);
  EXPECT_EQ(unshared.error().code(), ENOTDIR);
  auto shared = ShareDirectory(link, ::getegid(), 0750);
  ASSERT_FALSE(shared);
  EXPECT_EQ(Stat(target).st_mode & 07777, 0700u);
}

TEST(SparePoolTest, MadePrivateAndCapped) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string pool = JoinPath(dir->path(), "spares");
  auto names = OpenSparePool(pool, 2);
  ASSERT_TRUE(names) << names.error().ToString();
  EXPECT_TRUE(names->empty());
  struct stat st {};
  ASSERT_EQ(::lstat(pool.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  EXPECT_TRUE(IsOwnDirectory(pool));
  ASSERT_TRUE(MkdirAll(JoinPath(pool, "a"), 0700));
  names = OpenSparePool(pool, 2);
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"a"});
  ASSERT_TRUE(MkdirAll(JoinPath(pool, "b"), 0700));
  auto full = OpenSparePool(pool, 2);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), ENOSPC);
}

TEST(SparePoolTest, OnlyAnOwnUnwritableDirectoryIsOne) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string pool = JoinPath(dir->path(), "spares");
  ASSERT_TRUE(MkdirAll(pool, 0700));
  ASSERT_EQ(::chmod(pool.c_str(), 0770), 0);  // group-writable
  EXPECT_FALSE(IsOwnDirectory(pool));
  auto refused = OpenSparePool(pool, 2);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), EPERM);
  const std::string link = JoinPath(dir->path(), "link");
  ASSERT_EQ(::symlink(dir->path().c_str(), link.c_str()), 0);
  EXPECT_FALSE(IsOwnDirectory(link));
  EXPECT_FALSE(IsOwnDirectory(JoinPath(dir->path(), "missing")));
}

}  // namespace
}  // namespace comet::os
