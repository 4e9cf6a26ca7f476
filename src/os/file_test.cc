#include "os/file.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "os/file_lock.h"
#include "os/temp_dir.h"

namespace comet::os {
namespace {

TEST(FileTest, AtomicWriteAndRead) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = JoinPath(dir->path(), "state.json");
  ASSERT_TRUE(WriteFileAtomic(path, "one"));
  ASSERT_TRUE(WriteFileAtomic(path, "two"));
  EXPECT_EQ(*ReadFile(path), "two");
}

TEST(FileTest, ReadLimitedRejectsLargeFiles) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = JoinPath(dir->path(), "big");
  ASSERT_TRUE(WriteFile(path, std::string(100, 'x')));
  auto r = ReadFileLimited(path, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EFBIG);
}

TEST(FileTest, ListDirectoryNamesEntriesAndRefusesSymlinksAndFiles) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(WriteFile(JoinPath(dir->path(), "file"), "x"));
  ASSERT_TRUE(MkdirAll(JoinPath(dir->path(), "sub/deeper")));
  ASSERT_EQ(::symlink("sub", JoinPath(dir->path(), "link").c_str()), 0);
  auto names = ListDirectory(dir->path());
  ASSERT_TRUE(names) << names.error().ToString();
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"file", "link", "sub"}));
  EXPECT_TRUE(ListDirectory(JoinPath(dir->path(), "sub/deeper"))->empty());
  EXPECT_EQ(ListDirectory(JoinPath(dir->path(), "link")).error().code(), ENOTDIR);
  EXPECT_EQ(ListDirectory(JoinPath(dir->path(), "file")).error().code(), ENOTDIR);
  EXPECT_EQ(ListDirectory(JoinPath(dir->path(), "missing")).error().code(), ENOENT);
}

TEST(FileTest, MkdirAllAndRemoveAll) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string deep = JoinPath(dir->path(), "a/b/c");
  ASSERT_TRUE(MkdirAll(deep));
  ASSERT_TRUE(WriteFile(JoinPath(deep, "f"), "x"));
  ASSERT_TRUE(RemoveAll(JoinPath(dir->path(), "a")));
  EXPECT_FALSE(Exists(JoinPath(dir->path(), "a")));
  EXPECT_TRUE(RemoveAll(JoinPath(dir->path(), "missing")));
}

// The file in the directory, one per name, ignoring "." and "..".
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileTest, ReplaceFileSwapsContentAndLeavesNoTempFile) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = JoinPath(dir->path(), "status.json");
  ASSERT_TRUE(ReplaceFile(path, "new file", 0640));
  ASSERT_TRUE(ReplaceFile(path, "second", 0640));
  ASSERT_TRUE(ReplaceFile(path, "third", 0640));
  EXPECT_EQ(*ReadFile(path), "third");
  EXPECT_EQ(Entries(dir->path()), std::vector<std::string>{"status.json"});
}

TEST(FileTest, ReplaceFileRefusesADirectoryAndKeepsIt) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = JoinPath(dir->path(), "taken");
  ASSERT_TRUE(MkdirAll(JoinPath(path, "inside")));
  EXPECT_FALSE(ReplaceFile(path, "x"));
  EXPECT_TRUE(IsDirectory(JoinPath(path, "inside")));
  EXPECT_EQ(Entries(dir->path()), std::vector<std::string>{"taken"});
}

TEST(FileTest, MkdirAllBelowExistingAndRelativePaths) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  ASSERT_TRUE(MkdirAll(JoinPath(dir->path(), "a")));
  ASSERT_TRUE(MkdirAll(JoinPath(dir->path(), "a/b/c/"), 0700));
  EXPECT_TRUE(IsDirectory(JoinPath(dir->path(), "a/b/c")));
  ASSERT_TRUE(WriteFile(JoinPath(dir->path(), "a/file"), "x"));
  auto not_dir = MkdirAll(JoinPath(dir->path(), "a/file/d"));
  ASSERT_FALSE(not_dir);
  EXPECT_EQ(not_dir.error().code(), ENOTDIR);
  ASSERT_EQ(::chdir(dir->path().c_str()), 0);
  ASSERT_TRUE(MkdirAll("rel/x/y"));
  EXPECT_TRUE(IsDirectory(JoinPath(dir->path(), "rel/x/y")));
  ASSERT_EQ(::chdir("/"), 0);
}

TEST(FileLockTest, ExclusiveConflicts) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir);
  std::string path = JoinPath(dir->path(), "lock");
  auto first = FileLock::TryAcquire(path, FileLock::Mode::kExclusive);
  ASSERT_TRUE(first);
  auto second = FileLock::TryAcquire(path, FileLock::Mode::kExclusive);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), EWOULDBLOCK);
}

}  // namespace
}  // namespace comet::os
