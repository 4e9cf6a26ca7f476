#include "kube/quantity.h"

#include <gtest/gtest.h>

namespace comet::kube {
namespace {

TEST(QuantityTest, CpuMillis) {
  EXPECT_EQ(ParseCpuMillis("500m").value(), 500);
  EXPECT_EQ(ParseCpuMillis("2").value(), 2000);
  EXPECT_EQ(ParseCpuMillis("0.1").value(), 100);
  EXPECT_EQ(ParseCpuMillis(".5").value(), 500);
  EXPECT_EQ(ParseCpuMillis("5.").value(), 5000);
  EXPECT_EQ(ParseCpuMillis("+1").value(), 1000);
  EXPECT_EQ(ParseCpuMillis("1e3").value(), 1000000);
  EXPECT_EQ(ParseCpuMillis("1E3").value(), 1000000);
  EXPECT_EQ(ParseCpuMillis("25e-3").value(), 25);
  EXPECT_EQ(ParseCpuMillis("1k").value(), 1000000);
  EXPECT_EQ(ParseCpuMillis("0").value(), 0);
  EXPECT_EQ(ParseCpuMillis("-0").value(), 0);
  EXPECT_EQ(ParseCpuMillis("0.00000").value(), 0);
  // Rounded up, as Quantity.MilliValue rounds.
  EXPECT_EQ(ParseCpuMillis("0.0001").value(), 1);
  EXPECT_EQ(ParseCpuMillis("1.0005").value(), 1001);
  EXPECT_EQ(ParseCpuMillis("1e-100").value(), 1);
  EXPECT_EQ(
      ParseCpuMillis("0.000000000000000000000000000000000000000000000000000000000000001").value(),
      1);
}

TEST(QuantityTest, Bytes) {
  EXPECT_EQ(ParseQuantityBytes("128974848").value(), 128974848);
  EXPECT_EQ(ParseQuantityBytes("129e6").value(), 129000000);
  EXPECT_EQ(ParseQuantityBytes("129M").value(), 129000000);
  EXPECT_EQ(ParseQuantityBytes("123Mi").value(), 123 * 1024 * 1024);
  EXPECT_EQ(ParseQuantityBytes("1Ki").value(), 1024);
  EXPECT_EQ(ParseQuantityBytes("1k").value(), 1000);
  EXPECT_EQ(ParseQuantityBytes("1.5Gi").value(), 1610612736);
  EXPECT_EQ(ParseQuantityBytes("1Ti").value(), int64_t{1} << 40);
  EXPECT_EQ(ParseQuantityBytes("1Pi").value(), int64_t{1} << 50);
  EXPECT_EQ(ParseQuantityBytes("7Ei").value(), int64_t{7} << 60);
  EXPECT_EQ(ParseQuantityBytes("1T").value(), 1000000000000);
  EXPECT_EQ(ParseQuantityBytes("1P").value(), 1000000000000000);
  EXPECT_EQ(ParseQuantityBytes("9E").value(), 9000000000000000000);
  EXPECT_EQ(ParseQuantityBytes("0.5Ki").value(), 512);
  EXPECT_EQ(ParseQuantityBytes("0.0001Ki").value(), 1);  // 0.1024 rounds up
  EXPECT_EQ(ParseQuantityBytes("1m").value(), 1);        // milli-bytes round up
  EXPECT_EQ(ParseQuantityBytes("1500m").value(), 2);
  EXPECT_EQ(ParseQuantityBytes("2000m").value(), 2);
  EXPECT_EQ(ParseQuantityBytes("9223372036854775807").value(), INT64_MAX);
}

TEST(QuantityTest, Value) {
  EXPECT_EQ(ParseQuantityValue("1").value(), 1);
  EXPECT_EQ(ParseQuantityValue("2").value(), 2);
  EXPECT_EQ(ParseQuantityValue("0").value(), 0);
  EXPECT_EQ(ParseQuantityValue("1k").value(), 1000);
}

TEST(QuantityTest, RejectsGarbageNegativesAndOverflowNamingTheText) {
  for (const char* bad : {"", " 1", "1 ", "abc", "1.5.5", "1KiB", "1K", "1Mb", "1e", "1e+", "1ee3",
                          "--1", "+", ".", "1,5", "0x10", "1i", "Mi", "1Ki2"}) {
    auto parsed = ParseQuantityBytes(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << parsed.error().message();
    EXPECT_FALSE(ParseCpuMillis(bad)) << bad;
  }
  EXPECT_EQ(ParseCpuMillis("-1").error().message(), "\"-1\": must not be negative");
  EXPECT_EQ(ParseQuantityBytes("-1Gi").error().message(), "\"-1Gi\": must not be negative");
  EXPECT_EQ(ParseQuantityBytes("8Ei").error().message(), "\"8Ei\": too large");
  EXPECT_EQ(ParseQuantityBytes("9223372036854775808").error().message(),
            "\"9223372036854775808\": too large");
  EXPECT_EQ(ParseCpuMillis("1e30").error().message(), "\"1e30\": too large");
  EXPECT_EQ(ParseCpuMillis("9223372036854775807").error().message(),
            "\"9223372036854775807\": too large");
  EXPECT_EQ(ParseQuantityBytes("1e9999999").error().message(), "\"1e9999999\": too large");
  EXPECT_EQ(ParseQuantityBytes(std::string(60, '1')).error().message(),
            "\"" + std::string(60, '1') + "\": too many digits");
  EXPECT_EQ(ParseQuantityBytes("1\x01").error().message(), "\"1\\x01\": not a valid quantity");
}

}  // namespace
}  // namespace comet::kube
