#include "base/json.h"

#include <gtest/gtest.h>

namespace comet::json {
namespace {

std::string ErrorOf(const Status& status) {
  return status ? "ok" : status.error().ToString();
}

TEST(JsonTest, ReadsTypedMembersAndLeavesAbsentOnesAlone) {
  Json obj = Json::parse(R"({"s": "x", "b": true, "i": -3, "a": ["p", "q"], "m": {"k": "v"},
                             "u": [1, 2], "n": null})");
  std::string s;
  bool b = false;
  int i = 0;
  std::vector<std::string> a;
  std::map<std::string, std::string> m;
  std::vector<uint32_t> u;
  std::optional<int> absent;
  std::string untouched = "kept";
  EXPECT_TRUE(Read(obj, "s", "", &s, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "b", "", &b, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "i", "", &i, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "a", "", &a, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "m", "", &m, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "u", "", &u, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "n", "", &untouched, Wording::kTerse));
  EXPECT_TRUE(Read(obj, "missing", "", &absent, Wording::kTerse));
  EXPECT_EQ(s, "x");
  EXPECT_TRUE(b);
  EXPECT_EQ(i, -3);
  EXPECT_EQ(a, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(m.at("k"), "v");
  EXPECT_EQ(u, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(untouched, "kept");
  EXPECT_FALSE(absent);
  EXPECT_EQ(ErrorOf(ReadRequired(obj, "missing", "top", &s, Wording::kTerse)),
            "top.missing: missing");
}

TEST(JsonTest, WordsErrorsTwoWays) {
  Json obj = Json::parse(R"({"s": 1, "a": ["x", 2], "neg": -1, "big": 70000, "f": 1e300})");
  std::string s;
  std::vector<std::string> a;
  uint64_t u = 0;
  uint16_t small = 0;
  int i = 0;
  EXPECT_EQ(ErrorOf(Read(obj, "s", "p", &s, Wording::kTerse)), "p.s: expected string");
  EXPECT_EQ(ErrorOf(Read(obj, "s", "p", &s, Wording::kNamesType)),
            "p.s: expected string, got number");
  EXPECT_EQ(ErrorOf(Read(obj, "a", "", &a, Wording::kNamesType)),
            "a[1]: expected string, got number");
  EXPECT_EQ(ErrorOf(Read(obj, "neg", "", &u, Wording::kTerse)),
            "neg: -1 out of range [0, 18446744073709551615]");
  EXPECT_EQ(ErrorOf(Read(obj, "neg", "", &u, Wording::kNamesType)), "neg: must not be negative");
  EXPECT_EQ(ErrorOf(Read(obj, "big", "", &small, Wording::kTerse)),
            "big: 70000 out of range [0, 65535]");
  EXPECT_EQ(ErrorOf(Read(obj, "big", "", &small, Wording::kNamesType)),
            "big: 70000 is out of range");
  EXPECT_EQ(ErrorOf(Read(obj, "f", "", &i, Wording::kTerse)),
            "f: 1e+300 out of range [-2147483648, 2147483647]");
  EXPECT_EQ(ErrorOf(Read(obj, "f", "", &i, Wording::kNamesType)),
            "f: expected integer, got number");
}

TEST(JsonTest, ParseReportsPositionAndDepth) {
  auto bad = Parse(R"({"a": })");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().byte, 7U);
  EXPECT_EQ(bad.error().position, "line 1, column 7");
  EXPECT_NE(bad.error().reason.find("syntax error"), std::string::npos);
  EXPECT_EQ(TooDeepAt(R"([["[[[["]])", 2), std::nullopt);
  EXPECT_EQ(TooDeepAt("[[[", 2), 2U);
}

TEST(JsonTest, PathsAreEscapedAndCut) {
  EXPECT_EQ(PathError("a\x01", "bad").ToString(), "a\\x01: bad");
  EXPECT_EQ(PathError("", "bad").ToString(), "bad");
  EXPECT_EQ(Printable(std::string(300, 'k')).size(), kMaxShown + 3);
}

}  // namespace
}  // namespace comet::json
