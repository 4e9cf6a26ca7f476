#include "os/file.h"

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
