#include "runtime/container_store.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::runtime {
namespace {

TEST(ContainerStoreTest, SaveLoadRemove) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ContainerStore store(os::JoinPath(dir->path(), "root"));
  ASSERT_TRUE(store.CreateDir("c1"));
  auto again = store.CreateDir("c1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EEXIST);
  ContainerRecord record;
  record.id = "c1";
  record.bundle = "/b";
  record.pid = 42;
  record.cgroup_paths = {{"memory", "/sys/fs/cgroup/memory/x"}};
  ASSERT_TRUE(store.Save(record));
  auto loaded = store.Load("c1");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->pid, 42);
  EXPECT_EQ(loaded->cgroup_paths.at("memory"), "/sys/fs/cgroup/memory/x");
  EXPECT_EQ(*store.ListIds(), std::vector<std::string>{"c1"});
  ASSERT_TRUE(store.Remove("c1"));
  auto missing = store.Load("c1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST(ContainerStoreTest, RejectsBadIds) {
  for (const char* id : {"", ".", "..", "a/b", "a b", "../x"}) {
    EXPECT_FALSE(ContainerStore::ValidateId(id)) << id;
  }
  EXPECT_TRUE(ContainerStore::ValidateId("abc-1.2_3+x"));
}

TEST(ContainerStoreTest, CorruptStateIsAnError) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  ContainerStore store(dir->path());
  ASSERT_TRUE(store.CreateDir("c"));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(store.Dir("c"), "state.json"), "{not json"));
  auto loaded = store.Load("c");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().ToString().find("corrupt"), std::string::npos);
}

TEST(ContainerStoreTest, StartTimeOfSelfAndMissing) {
  EXPECT_GT(ProcessStartTime(::getpid()), 0U);
  EXPECT_EQ(ProcessStartTime(0), 0U);
}

}  // namespace
}  // namespace comet::runtime
