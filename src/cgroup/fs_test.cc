#include "cgroup/fs.h"

#include <gtest/gtest.h>

#include "cgroup/fake_tree.h"
#include "os/temp_dir.h"

namespace comet::cgroup {
namespace {

using testing::MakeGroup;

TEST(ResolveGroupPathTest, AbsoluteRelativeAndEmpty) {
  auto abs = ResolveGroupPath("/machine//ctr/./x/", "id");
  ASSERT_TRUE(abs);
  EXPECT_EQ(abs->path, "/machine/ctr/x");
  EXPECT_FALSE(abs->relative);
  auto rel = ResolveGroupPath("pods/p1", "id");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->path, "/pods/p1");
  EXPECT_TRUE(rel->relative);
  auto empty = ResolveGroupPath("", "mycontainer");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->path, "/mycontainer");
  EXPECT_TRUE(empty->relative);
}

TEST(ResolveGroupPathTest, Rejects) {
  auto dots = ResolveGroupPath("/a/../../etc", "id");
  ASSERT_FALSE(dots);
  EXPECT_NE(dots.error().ToString().find("\"..\""), std::string::npos);
  auto systemd = ResolveGroupPath("system.slice:comet:abc", "id");
  ASSERT_FALSE(systemd);
  EXPECT_NE(systemd.error().ToString().find("systemd cgroup driver is not supported"),
            std::string::npos);
  EXPECT_FALSE(ResolveGroupPath("/", "id"));
  EXPECT_FALSE(ResolveGroupPath("", "../x"));
}

TEST(GroupDirTest, RelativeHangsBelowOwnGroup) {
  GroupPath rel{"/c1", true};
  GroupPath abs{"/c1", false};
  EXPECT_EQ(GroupDir("/sys/fs/cgroup/memory", "/nested/x", rel),
            "/sys/fs/cgroup/memory/nested/x/c1");
  EXPECT_EQ(GroupDir("/sys/fs/cgroup/memory", "/nested/x", abs), "/sys/fs/cgroup/memory/c1");
  EXPECT_EQ(GroupDir("/sys/fs/cgroup/cpu", "/", rel), "/sys/fs/cgroup/cpu/c1");
}

TEST(WriteValueTest, ErrorNamesFileAndValue) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  auto st = WriteValue(dir->path(), "memory.max", "abc");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ENOENT);  // never creates the file
  EXPECT_NE(st.error().ToString().find("setting memory.max to \"abc\": open " + dir->path() +
                                       "/memory.max: No such file"),
            std::string::npos)
      << st.error().ToString();
  MakeGroup(dir->path(), {{"pids.max", "max\n"}});
  ASSERT_TRUE(WriteValue(dir->path(), "pids.max", "12"));
  EXPECT_EQ(*ReadValue(dir->path(), "pids.max"), "12");
}

TEST(PidsTest, RecursiveSortedUnique) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  MakeGroup(dir->path(), {{"cgroup.procs", "10\n3\n"}});
  MakeGroup(dir->path() + "/a", {{"cgroup.procs", "7\n"}});
  MakeGroup(dir->path() + "/a/b", {{"cgroup.procs", "3\n20\n"}});
  auto pids = ReadPidsRecursive(dir->path());
  ASSERT_TRUE(pids);
  EXPECT_EQ(*pids, (std::vector<pid_t>{3, 7, 10, 20}));
  auto none = ReadPidsRecursive(dir->path() + "/missing");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(RemoveGroupTreeTest, DepthFirstAndMissingIsFine) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/g/a/b"));
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/g/c"));
  ASSERT_TRUE(RemoveGroupTree(dir->path() + "/g"));
  EXPECT_FALSE(os::Exists(dir->path() + "/g"));
  EXPECT_TRUE(RemoveGroupTree(dir->path() + "/g"));
}

TEST(MakeGroupDirsTest, RecordsOnlyNewDirectories) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/a"));
  std::vector<std::string> created;
  ASSERT_TRUE(MakeGroupDirs(dir->path(), dir->path() + "/a/b/c", &created));
  EXPECT_EQ(created, (std::vector<std::string>{dir->path() + "/a/b", dir->path() + "/a/b/c"}));
  RemoveCreated(created);
  EXPECT_FALSE(os::Exists(dir->path() + "/a/b"));
  EXPECT_TRUE(os::Exists(dir->path() + "/a"));
}

}  // namespace
}  // namespace comet::cgroup
