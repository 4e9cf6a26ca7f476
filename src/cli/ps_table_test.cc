#include "cli/ps_table.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kPsEf[] =
    "UID          PID    PPID  C STIME TTY          TIME CMD\n"
    "root           1       0  0 05:40 ?        00:00:01 /sbin/init\n"
    "root        7537       1  5 05:52 ?        00:00:00 sleep 100\n"
    "root        7600    7537  0 05:52 ?        00:00:00 sh -c echo 1 2\n";

TEST(FilterPsOutputTest, KeepsHeaderAndContainerRows) {
  EXPECT_EQ(FilterPsOutput(kPsEf, {7537, 7600}).value(),
            "UID          PID    PPID  C STIME TTY          TIME CMD\n"
            "root        7537       1  5 05:52 ?        00:00:00 sleep 100\n"
            "root        7600    7537  0 05:52 ?        00:00:00 sh -c echo 1 2\n");
}

TEST(FilterPsOutputTest, MatchesThePidColumnOnly) {
  // 7537 is also the PPID of 7600: that row must not be kept for pid 7537 alone.
  std::string out = FilterPsOutput(kPsEf, {7537}).value();
  EXPECT_THAT(out, HasSubstr("sleep 100"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("sh -c")));
}

TEST(FilterPsOutputTest, PidColumnAnywhere) {
  EXPECT_EQ(FilterPsOutput("COMMAND PID\nsleep 5\nsh 6\n", {6}).value(), "COMMAND PID\nsh 6\n");
}

TEST(FilterPsOutputTest, NoPidColumn) {
  EXPECT_THAT(FilterPsOutput("USER COMMAND\nroot init\n", {1}).error().ToString(),
              HasSubstr("no PID column"));
  EXPECT_FALSE(FilterPsOutput("", {1}));
}

TEST(FilterPsOutputTest, BadPid) {
  EXPECT_THAT(FilterPsOutput("PID CMD\nxx sh\n", {1}).error().ToString(), HasSubstr("line 2"));
}

TEST(RunPsTest, RunsPsAndFilters) {
  pid_t self = ::getpid();
  std::string output = RunPs({"-o", "pid,comm", "-p", std::to_string(self)}).value();
  std::string table = FilterPsOutput(output, {self}).value();
  EXPECT_THAT(table, HasSubstr("PID"));
  EXPECT_THAT(table, HasSubstr(std::to_string(self)));
}

TEST(RunPsTest, FailureCarriesPsOutput) {
  Result<std::string> output = RunPs({"--no-such-option-for-ps"});
  ASSERT_FALSE(output);
  EXPECT_THAT(output.error().ToString(), HasSubstr("ps --no-such-option-for-ps failed"));
}

TEST(FormatPidsJsonTest, Array) {
  EXPECT_EQ(FormatPidsJson({}), "[]\n");
  EXPECT_EQ(FormatPidsJson({1, 22}), "[1,22]\n");
}

}  // namespace
}  // namespace comet::cli
