#include "cli/signal.h"

#include <csignal>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseSignalTest, Names) {
  EXPECT_EQ(ParseSignal("KILL").value(), SIGKILL);
  EXPECT_EQ(ParseSignal("SIGKILL").value(), SIGKILL);
  EXPECT_EQ(ParseSignal("kill").value(), SIGKILL);
  EXPECT_EQ(ParseSignal("sigterm").value(), SIGTERM);
  EXPECT_EQ(ParseSignal("HUP").value(), SIGHUP);
  EXPECT_EQ(ParseSignal("WINCH").value(), SIGWINCH);
  EXPECT_EQ(ParseSignal("IOT").value(), SIGABRT);
  EXPECT_EQ(ParseSignal("SIGCLD").value(), SIGCHLD);
}

TEST(ParseSignalTest, Numbers) {
  EXPECT_EQ(ParseSignal("9").value(), 9);
  EXPECT_EQ(ParseSignal("15").value(), 15);
  EXPECT_EQ(ParseSignal("0").value(), 0);
  EXPECT_EQ(ParseSignal(std::to_string(SIGRTMAX)).value(), SIGRTMAX);
}

TEST(ParseSignalTest, RealTime) {
  EXPECT_EQ(ParseSignal("RTMIN").value(), SIGRTMIN);
  EXPECT_EQ(ParseSignal("SIGRTMIN+3").value(), SIGRTMIN + 3);
  EXPECT_EQ(ParseSignal("rtmax-1").value(), SIGRTMAX - 1);
  EXPECT_FALSE(ParseSignal("RTMIN-1"));
  EXPECT_FALSE(ParseSignal("RTMIN+100"));
  EXPECT_FALSE(ParseSignal("RTMIN+"));
}

TEST(ParseSignalTest, Rejects) {
  EXPECT_THAT(ParseSignal("BOGUS").error().ToString(), HasSubstr("unknown signal \"BOGUS\""));
  EXPECT_THAT(ParseSignal("").error().ToString(), HasSubstr("empty signal"));
  EXPECT_THAT(ParseSignal("999").error().ToString(), HasSubstr("invalid signal number"));
  EXPECT_FALSE(ParseSignal("9x"));
  EXPECT_FALSE(ParseSignal("-9"));
  EXPECT_FALSE(ParseSignal("SIG"));
}

}  // namespace
}  // namespace comet::cli
