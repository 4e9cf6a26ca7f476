// Tests of the agent's whole-pod restart decisions.
#include "node/restart_policy.h"

#include <gtest/gtest.h>

namespace comet::node {
namespace {

TEST(ShouldRestartPod, ByPolicy) {
  const std::vector<AppEnd> ok = {{true, 0}, {true, 0}};
  const std::vector<AppEnd> failed = {{true, 0}, {true, 1}};
  const std::vector<AppEnd> never_ran = {{true, 0}, {false, 0}};
  EXPECT_TRUE(ShouldRestartPod("Always", ok));
  EXPECT_TRUE(ShouldRestartPod("Always", failed));
  EXPECT_FALSE(ShouldRestartPod("OnFailure", ok));
  EXPECT_TRUE(ShouldRestartPod("OnFailure", failed));
  EXPECT_TRUE(ShouldRestartPod("OnFailure", never_ran));
  EXPECT_FALSE(ShouldRestartPod("Never", failed));
  EXPECT_FALSE(ShouldRestartPod("", failed));
}

}  // namespace
}  // namespace comet::node
