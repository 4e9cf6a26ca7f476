#include "supervisor/supervisor_main.h"

#include <gtest/gtest.h>

namespace comet::supervisor {
namespace {

TEST(CommandLineTest, ParsesStage0sFlags) {
  auto line = ParseCommandLine({"--pod-dir=/var/lib/comet/pods/run/x", "--data-dir=/var/lib/comet",
                                "--debug", "--rm", "--foreground", "--ready-fd=7"});
  ASSERT_TRUE(line) << line.error().ToString();
  EXPECT_EQ(line->pod_dir, "/var/lib/comet/pods/run/x");
  EXPECT_EQ(line->data_dir, "/var/lib/comet");
  EXPECT_TRUE(line->debug);
  EXPECT_TRUE(line->remove);
  EXPECT_TRUE(line->foreground);
  EXPECT_EQ(line->ready_fd, 7);

  line = ParseCommandLine({"--pod-dir=/p", "--data-dir=/d"});
  ASSERT_TRUE(line);
  EXPECT_FALSE(line->remove);
  EXPECT_EQ(line->ready_fd, -1);
}

TEST(CommandLineTest, RejectsBadInput) {
  EXPECT_FALSE(ParseCommandLine({"--data-dir=/d"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=relative", "--data-dir=/d"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--ready-fd=1"}));
  EXPECT_FALSE(ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--ready-fd=x"}));
  auto unknown = ParseCommandLine({"--pod-dir=/p", "--data-dir=/d", "--bogus"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().ToString().find("--bogus"), std::string::npos);
}

}  // namespace
}  // namespace comet::supervisor
