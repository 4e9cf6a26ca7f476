#include "cli/list_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::HasSubstr;

std::vector<runtime::ContainerInfo> TwoContainers() {
  runtime::ContainerInfo a;
  a.id = "t1";
  a.pid = 7537;
  a.status = "running";
  a.bundle = "/tmp/clib";
  a.created = "2026-11-29T05:52:50.142270434Z";
  a.owner = "root";
  runtime::ContainerInfo b;
  b.id = "a-much-longer-container-id";
  b.pid = 0;
  b.status = "stopped";
  b.bundle = "/b";
  b.created = "2026-11-29T05:52:51Z";
  b.owner = "root";
  b.annotations["k"] = "v\"q";
  return {a, b};
}

TEST(FormatListTableTest, EmptyIsTheHeaderAtMinimumWidth) {
  // Byte for byte what runc 1.1 prints with no containers.
  EXPECT_EQ(FormatListTable({}),
            "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
}

TEST(FormatListTableTest, ColumnsWidenToTheLongestCellPlusThree) {
  std::vector<runtime::ContainerInfo> one = {TwoContainers()[0]};
  // Matches runc's output for the same container.
  EXPECT_EQ(
      FormatListTable(one),
      "ID          PID         STATUS      BUNDLE      CREATED                          OWNER\n"
      "t1          7537        running     /tmp/clib   2026-11-29T05:52:50.142270434Z   "
      "root\n");
  std::string table = FormatListTable(TwoContainers());
  EXPECT_THAT(table, HasSubstr("ID                           PID"));
  EXPECT_THAT(table, HasSubstr("\na-much-longer-container-id   0           stopped"));
}

TEST(FormatListQuietTest, IdsOnly) {
  EXPECT_EQ(FormatListQuiet(TwoContainers()), "t1\na-much-longer-container-id\n");
  EXPECT_EQ(FormatListQuiet({}), "");
}

TEST(FormatListJsonTest, Array) {
  EXPECT_EQ(FormatListJson({}), "[]\n");
  std::string json = FormatListJson(TwoContainers());
  EXPECT_THAT(json, HasSubstr(R"("id":"t1","pid":7537,"status":"running","bundle":"/tmp/clib",)"
                              R"("created":"2026-11-29T05:52:50.142270434Z","owner":"root"})"));
  EXPECT_THAT(json, HasSubstr(R"("annotations":{"k":"v\"q"}})"));
  EXPECT_EQ(json.front(), '[');
  EXPECT_EQ(json.substr(json.size() - 2), "]\n");
}

TEST(AlignColumnsTest, LastCellIsNotPadded) {
  EXPECT_EQ(AlignColumns({{"a", "b"}, {"ccc", "d"}}), "a           b\nccc         d\n");
  EXPECT_EQ(AlignColumns({{"only"}}), "only\n");
}

}  // namespace
}  // namespace comet::cli
