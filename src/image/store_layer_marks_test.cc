// Tests of the unsynced-layer marks: a tree published by this boot is used as is and settled by
// gc; a tree whose mark names another boot (the machine went down before its data reached the
// disk) is not trusted and is unpacked again.
#include <gtest/gtest.h>

#include "image/store.h"
#include "image/store_internal.h"
#include "image/store_test_util.h"
#include "os/file.h"

namespace comet::image {
namespace {

using testing::MakeTestStore;

Result<Digest> FillWith(const std::string& dir, const std::string& content, const Digest& id) {
  RETURN_IF_ERROR(os::WriteFile(os::JoinPath(dir, "f"), content));
  return id;
}

TEST(StoreLayerMarks, NewTreeIsMarkedWithThisBootAndSettledByGc) {
  auto t = MakeTestStore();
  const Digest diff_id = Digest::Sha256Of("layer");
  ASSERT_TRUE(t.store.EnsureLayer(
      diff_id, [&](const std::string& dir) { return FillWith(dir, "one", diff_id); }));
  const std::string tree = t.store.LayerPath(diff_id);
  auto mark = os::ReadFile(tree + ".unsynced");
  ASSERT_TRUE(mark) << "a new tree carries a mark until gc syncs it";
  EXPECT_EQ(*mark, store_internal::CurrentBootId() + "\n");
  EXPECT_TRUE(t.store.HasLayer(diff_id));

  // gc (with a lease keeping the tree) flushes the filesystem and clears the mark.
  auto lease = t.store.AcquireLease("pod-1");
  ASSERT_TRUE(lease);
  ASSERT_TRUE(lease->Add({diff_id}));
  ASSERT_TRUE(t.store.GarbageCollect({.grace_period = std::chrono::seconds(0), .dry_run = false}));
  EXPECT_FALSE(os::Exists(tree + ".unsynced"));
  EXPECT_TRUE(t.store.HasLayer(diff_id));
}

TEST(StoreLayerMarks, TreeFromAnEarlierBootIsUnpackedAgain) {
  auto t = MakeTestStore();
  const Digest diff_id = Digest::Sha256Of("layer");
  ASSERT_TRUE(t.store.EnsureLayer(diff_id, [&](const std::string& dir) {
    return FillWith(dir, "lost in a power cut", diff_id);
  }));
  const std::string tree = t.store.LayerPath(diff_id);
  ASSERT_TRUE(os::WriteFile(tree + ".unsynced", "00000000-0000-0000-0000-000000000000\n"));
  EXPECT_FALSE(t.store.HasLayer(diff_id));

  int fills = 0;
  ASSERT_TRUE(t.store.EnsureLayer(diff_id, [&](const std::string& dir) {
    ++fills;
    return FillWith(dir, "again", diff_id);
  }));
  EXPECT_EQ(fills, 1);
  EXPECT_TRUE(t.store.HasLayer(diff_id));
  EXPECT_EQ(*os::ReadFile(tree + "/f"), "again");
  EXPECT_EQ(*os::ReadFile(tree + ".unsynced"), store_internal::CurrentBootId() + "\n");
}

TEST(StoreLayerMarks, GcDiscardsTreesOfAnEarlierBoot) {
  auto t = MakeTestStore();
  const Digest diff_id = Digest::Sha256Of("layer");
  ASSERT_TRUE(t.store.EnsureLayer(
      diff_id, [&](const std::string& dir) { return FillWith(dir, "x", diff_id); }));
  auto lease = t.store.AcquireLease("pod-1");
  ASSERT_TRUE(lease);
  ASSERT_TRUE(lease->Add({diff_id}));
  const std::string tree = t.store.LayerPath(diff_id);
  ASSERT_TRUE(os::WriteFile(tree + ".unsynced", "another-boot\n"));
  ASSERT_TRUE(t.store.GarbageCollect({.grace_period = std::chrono::seconds(0), .dry_run = false}));
  EXPECT_FALSE(os::Exists(tree));
  EXPECT_FALSE(os::Exists(tree + ".unsynced"));
}

}  // namespace
}  // namespace comet::image
