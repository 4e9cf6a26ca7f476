#include "cli/image_format.h"

#include <gtest/gtest.h>

#include "cli/progress_bar.h"

namespace comet::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

image::ImageRecord Record(std::string config_hex_char, std::vector<std::string> names,
                          std::chrono::system_clock::time_point imported) {
  image::ImageRecord record{
      .manifest_digest = *image::Digest::Parse("sha256:" + std::string(64, 'a')),
      .config_digest = *image::Digest::Parse("sha256:" + std::string(64, config_hex_char[0])),
      .manifest_media_type = std::string(image::media_type::kOciManifest),
      .names = std::move(names),
      .repo_digests = {},
      .platform = {.os = "linux",
                   .architecture = "amd64",
                   .variant = {},
                   .os_version = {},
                   .os_features = {}},
      .size = 1'500'000,
      .imported = imported,
      .last_used = imported,
      .source = {},
  };
  return record;
}

TEST(ImageFormat, TableHasOneRowPerNameNewestFirst) {
  const auto now = std::chrono::system_clock::now();
  std::string table = FormatImageTable(
      {Record("b", {"docker.io/library/busybox:latest", "localhost:5000/bb:1"}, now - hours(3)),
       Record("c", {}, now - minutes(2))},
      {.now = now});
  EXPECT_EQ(table.find("ID"), 0U);
  EXPECT_NE(table.find("IMPORT TIME"), std::string::npos);
  const size_t none = table.find("<none>");
  const size_t busybox = table.find("docker.io/library/busybox:latest");
  ASSERT_NE(none, std::string::npos);
  ASSERT_NE(busybox, std::string::npos);
  EXPECT_LT(none, busybox);  // newest import first
  EXPECT_NE(table.find("localhost:5000/bb:1"), std::string::npos);
  EXPECT_NE(table.find("bbbbbbbbbbbb "), std::string::npos);
  EXPECT_EQ(table.find("bbbbbbbbbbbbb"), std::string::npos);  // truncated to 12
  EXPECT_NE(table.find("1.5 MB"), std::string::npos);
  EXPECT_NE(table.find("3 hours ago"), std::string::npos);
}

TEST(ImageFormat, IdsAreUnique) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(FormatImageIds({Record("b", {"x:1", "y:2"}, now)}, false), "bbbbbbbbbbbb\n");
  EXPECT_EQ(FormatImageIds({Record("b", {}, now)}, true), "sha256:" + std::string(64, 'b') + "\n");
}

TEST(ImageFormat, JsonListsFields) {
  const auto now = std::chrono::system_clock::now();
  std::string json = FormatImageListJson({Record("b", {"x:1"}, now)});
  for (const char* field : {"\"id\"", "\"digest\"", "\"names\"", "\"size\": 1500000",
                            R"("platform": "linux/amd64")", "\"importTime\"", "\"lastUsed\""}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
  EXPECT_EQ(FormatImageListJson({}), "[]\n");
}

TEST(ImageFormat, HumanForms) {
  EXPECT_EQ(HumanSize(0), "0 B");
  EXPECT_EQ(HumanSize(999), "999 B");
  EXPECT_EQ(HumanSize(1000), "1 kB");
  EXPECT_EQ(HumanSize(226'000'000), "226 MB");
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(HumanAge(now, now), "Just now");
  EXPECT_EQ(HumanAge(now - seconds(30), now), "30 seconds ago");
  EXPECT_EQ(HumanAge(now - minutes(1), now), "1 minute ago");
  EXPECT_EQ(HumanAge(now - hours(50), now), "2 days ago");
  EXPECT_EQ(HumanAge({}, now), "Never");
}

TEST(ProgressLine, FitsAndShowsNumbers) {
  std::string line =
      FormatProgressLine("localhost:5000/app:1", 50'000'000, 200'000'000, 25'000'000, 100);
  EXPECT_LE(line.size(), 100U);
  EXPECT_NE(line.find("50 MB / 200 MB"), std::string::npos) << line;
  EXPECT_NE(line.find("25 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("[========="), std::string::npos) << line;
  std::string narrow = FormatProgressLine(std::string(200, 'n'), 1, 2, 0, 60);
  EXPECT_NE(narrow.find("1 B / 2 B"), std::string::npos) << narrow;
}

}  // namespace
}  // namespace comet::cli
