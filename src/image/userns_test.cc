// Unit tests of /etc/subuid parsing (no root needed).
#include "image/userns.h"

#include <string>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::image {
namespace {

class SubordinateIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-subuid-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
  }
  std::string Write(const std::string& text) {
    std::string path = os::JoinPath(dir_->path(), "subuid");
    EXPECT_TRUE(os::WriteFile(path, text));
    return path;
  }
  std::optional<os::TempDir> dir_;
};

TEST_F(SubordinateIdsTest, MatchesNameAndUidInFileOrder) {
  std::string path = Write(
      "# comment\n"
      "\n"
      "alice:100000:65536\n"
      "bob:165536:65536\n"
      "  1000:300000:10  \n"
      "alice:400000:5\n");
  auto ranges = SubordinateIds(path, 1000, "alice");
  ASSERT_TRUE(ranges) << ranges.error().ToString();
  ASSERT_EQ(ranges->size(), 3U);
  EXPECT_EQ((*ranges)[0].host_id, 100000U);
  EXPECT_EQ((*ranges)[0].size, 65536U);
  EXPECT_EQ((*ranges)[0].container_id, 1U);
  EXPECT_EQ((*ranges)[1].host_id, 300000U);
  EXPECT_EQ((*ranges)[1].size, 10U);
  EXPECT_EQ((*ranges)[1].container_id, 65537U);
  EXPECT_EQ((*ranges)[2].host_id, 400000U);
  EXPECT_EQ((*ranges)[2].container_id, 65547U);
}

TEST_F(SubordinateIdsTest, NoRangeIsEmpty) {
  auto ranges = SubordinateIds(Write("bob:165536:65536\n"), 1000, "alice");
  ASSERT_TRUE(ranges) << ranges.error().ToString();
  EXPECT_TRUE(ranges->empty());
}

TEST_F(SubordinateIdsTest, NameIsNotAPrefixMatch) {
  auto ranges = SubordinateIds(Write("alice2:1:2\nalic:3:4\n10000:5:6\n"), 1000, "alice");
  ASSERT_TRUE(ranges) << ranges.error().ToString();
  EXPECT_TRUE(ranges->empty());
}

TEST_F(SubordinateIdsTest, OtherUsersMalformedLinesAreSkipped) {
  auto ranges = SubordinateIds(Write("bob:x:y\ngarbage\nalice:7:8\n"), 1000, "alice");
  ASSERT_TRUE(ranges) << ranges.error().ToString();
  ASSERT_EQ(ranges->size(), 1U);
  EXPECT_EQ((*ranges)[0].host_id, 7U);
}

TEST_F(SubordinateIdsTest, OwnMalformedLineIsAnError) {
  for (const char* line : {"alice:1\n", "alice:a:5\n", "alice:1:2:3\n", "alice:-1:5\n",
                           "alice:4294967295:2\n", "alice:1:4294967296\n"}) {
    auto ranges = SubordinateIds(Write(line), 1000, "alice");
    ASSERT_FALSE(ranges) << line;
    EXPECT_EQ(ranges.error().code(), EINVAL);
    EXPECT_NE(ranges.error().ToString().find("subuid:1"), std::string::npos)
        << ranges.error().ToString();
  }
}

TEST_F(SubordinateIdsTest, ZeroCountIsSkipped) {
  auto ranges = SubordinateIds(Write("alice:100:0\nalice:200:3\n"), 1000, "alice");
  ASSERT_TRUE(ranges) << ranges.error().ToString();
  ASSERT_EQ(ranges->size(), 1U);
  EXPECT_EQ((*ranges)[0].host_id, 200U);
  EXPECT_EQ((*ranges)[0].container_id, 1U);
}

TEST_F(SubordinateIdsTest, RangesBeyondTheIdSpaceAreAnError) {
  auto ranges = SubordinateIds(Write("alice:0:4294967295\nalice:0:4294967295\n"), 1000, "alice");
  EXPECT_FALSE(ranges);
}

TEST_F(SubordinateIdsTest, MissingFileIsNotFound) {
  auto ranges = SubordinateIds(os::JoinPath(dir_->path(), "none"), 1000, "alice");
  ASSERT_FALSE(ranges);
  EXPECT_EQ(ranges.error().code(), ENOENT);
}

TEST(RootlessIdMapTest, OwnIdFirst) {
  std::vector<IdRange> map = RootlessIdMap(1001, {{1, 100000, 65536}});
  ASSERT_EQ(map.size(), 2U);
  EXPECT_EQ(map[0].container_id, 0U);
  EXPECT_EQ(map[0].host_id, 1001U);
  EXPECT_EQ(map[0].size, 1U);
  EXPECT_EQ(map[1].host_id, 100000U);
}

}  // namespace
}  // namespace comet::image
