#include "cli/user_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseUserTest, UidOnly) {
  UserIds ids = ParseUser("1000").value();
  EXPECT_EQ(ids.uid, 1000U);
  EXPECT_EQ(ids.gid, std::nullopt);
}

TEST(ParseUserTest, UidAndGid) {
  UserIds ids = ParseUser("0:5").value();
  EXPECT_EQ(ids.uid, 0U);
  EXPECT_EQ(ids.gid, 5U);
}

TEST(ParseUserTest, Rejects) {
  EXPECT_THAT(ParseUser("root").error().ToString(), HasSubstr("invalid uid \"root\""));
  EXPECT_THAT(ParseUser("1:wheel").error().ToString(), HasSubstr("invalid gid \"wheel\""));
  EXPECT_FALSE(ParseUser(""));
  EXPECT_FALSE(ParseUser("1:"));
  EXPECT_FALSE(ParseUser(":1"));
  EXPECT_FALSE(ParseUser("-1"));
  EXPECT_FALSE(ParseUser("4294967295"));  // (uid_t)-1
  EXPECT_FALSE(ParseUser("1:2:3"));
}

TEST(ParseGidsTest, RepeatedAndCommaSeparated) {
  EXPECT_THAT(ParseGids({"5", "6,7"}).value(), ElementsAre(5U, 6U, 7U));
  EXPECT_TRUE(ParseGids({}).value().empty());
  EXPECT_THAT(ParseGids({"5,x"}).error().ToString(), HasSubstr("invalid additional gid \"x\""));
}

}  // namespace
}  // namespace comet::cli
