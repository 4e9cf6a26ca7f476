#include "base/duration.h"

#include <gtest/gtest.h>

namespace comet {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsGoForms) {
  EXPECT_EQ(*ParseDuration("0"), nanoseconds(0));
  EXPECT_EQ(*ParseDuration("30m"), minutes(30));
  EXPECT_EQ(*ParseDuration("24h"), hours(24));
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("1.5h"), minutes(90));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("2m3s"), seconds(123));
  EXPECT_EQ(*ParseDuration("10us"), nanoseconds(10000));
}

TEST(ParseDuration, RejectsBadInput) {
  for (const char* bad : {"", "10", "h", "-5m", "5x", "1..5s", ".s", "5m-", "99999999999h"}) {
    auto parsed = ParseDuration(bad);
    EXPECT_FALSE(parsed.has_value()) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().message().find("invalid duration"), std::string::npos) << bad;
    }
  }
}

TEST(FormatDuration, ShortestGoForm) {
  EXPECT_EQ(FormatDuration(hours(24)), "24h");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(minutes(30)), "30m");
  EXPECT_EQ(FormatDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(hours(1) + seconds(5)), "1h5s");
}

}  // namespace
}  // namespace comet
