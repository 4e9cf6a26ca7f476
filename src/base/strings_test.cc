#include "base/strings.h"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(StringsTest, SplitAndJoin) {
  auto parts = Split("a::b", ':');
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(Join(parts, "/"), "a//b");
}

TEST(StringsTest, ParseIntRejectsJunk) {
  EXPECT_EQ(ParseInt("-12"), -12);
  EXPECT_FALSE(ParseInt("12x"));
  EXPECT_FALSE(ParseInt(""));
  EXPECT_FALSE(ParseUint("-1"));
  EXPECT_FALSE(ParseUint("99999999999999999999999"));
}

TEST(StringsTest, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\\n\x01"), R"("a\"b\\\n\u0001")");
}

TEST(StringsTest, Rfc3339NanoTrimsZeros) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(1136214245) +
                                          std::chrono::milliseconds(500)};
  EXPECT_EQ(FormatRfc3339Nano(t), "2006-01-02T15:04:05.5Z");
}

}  // namespace
}  // namespace comet
