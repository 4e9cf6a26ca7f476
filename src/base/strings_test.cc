#include "base/strings.h"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(StringsTest, ValidUtf8KeepsGoodTextAndReplacesTheRest) {
  EXPECT_EQ(ValidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(ValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string bad = "\xEF\xBF\xBD";
  EXPECT_EQ(ValidUtf8("a\xFF"
                      "b"),
            "a" + bad + "b");
  EXPECT_EQ(ValidUtf8("\xC3"), bad);                                // cut short
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), bad + bad);                      // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), bad + bad + bad);            // a surrogate
  EXPECT_EQ(ValidUtf8("\xF4\x90\x80\x80"), bad + bad + bad + bad);  // past U+10FFFF
  EXPECT_EQ(ValidUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

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

TEST(StringsTest, ParseRfc3339RoundTripsFormat) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(1136214245) +
                                          std::chrono::nanoseconds(123456789)};
  auto parsed = ParseRfc3339(FormatRfc3339Nano(t));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, t);
}

TEST(StringsTest, ParseRfc3339Forms) {
  using std::chrono::seconds;
  using std::chrono::system_clock;
  auto at = [](long long s) { return system_clock::time_point(seconds(s)); };
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z").value(), at(0));
  EXPECT_EQ(ParseRfc3339("2006-01-02T15:04:05Z").value(), at(1136214245));
  EXPECT_EQ(ParseRfc3339("2006-01-02t15:04:05z").value(), at(1136214245));
  EXPECT_EQ(ParseRfc3339("2006-01-02T08:04:05-07:00").value(), at(1136214245));
  EXPECT_EQ(ParseRfc3339("2006-01-02T16:34:05+01:30").value(), at(1136214245));
  EXPECT_EQ(ParseRfc3339("2000-02-29T00:00:00Z").value(), at(951782400));
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59Z").value(), at(-1));
  // Digits past nanoseconds are truncated.
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.0000000019Z").value(),
            system_clock::time_point(std::chrono::nanoseconds(1)));
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.5Z").value(),
            system_clock::time_point(std::chrono::milliseconds(500)));
}

TEST(StringsTest, ParseRfc3339RejectsJunk) {
  for (const char* bad :
       {"", "2006-01-02", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z", "2006-13-02T15:04:05Z",
        "2006-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2006-01-02T24:00:00Z",
        "2006-01-02T15:04:60Z", "2006-01-02T15:04:05.Z", "2006-01-02T15:04:05Zjunk",
        "2006-01-02T15:04:05+0700", "2006-1-02T15:04:05Z", "+006-01-02T15:04:05Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace comet
