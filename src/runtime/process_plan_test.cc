// ClampOomScoreAdj: raising is always allowed; lowering only where CAP_SYS_RESOURCE counts (held,
// and in the initial user namespace), else clamped at the current score.
#include "runtime/process_plan.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "os/file.h"

namespace comet::runtime {
namespace {

int CurrentScore() {
  auto text = os::ReadFileLimited("/proc/self/oom_score_adj", 64);
  return text ? static_cast<int>(ParseInt(TrimSpace(*text)).value_or(0)) : 0;
}

TEST(ClampOomScoreAdjTest, RaisingIsKept) {
  const int current = CurrentScore();
  if (current >= 1000) {
    GTEST_SKIP() << "already at the highest score";
  }
  EXPECT_EQ(ClampOomScoreAdj(1000), 1000);
  EXPECT_EQ(ClampOomScoreAdj(1000, /*other_user_ns=*/true), 1000);
}

// In a user namespace other than the caller's the capability never counts: clamped, whatever
// this process holds.
TEST(ClampOomScoreAdjTest, LoweringInAnotherUserNamespaceIsClamped) {
  const int current = CurrentScore();
  if (current <= -1000) {
    GTEST_SKIP() << "already at the lowest score";
  }
  EXPECT_EQ(ClampOomScoreAdj(-1000, /*other_user_ns=*/true), current);
}

}  // namespace
}  // namespace comet::runtime
