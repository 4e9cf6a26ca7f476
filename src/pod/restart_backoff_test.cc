#include "pod/restart_backoff.h"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace comet::pod {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(BackoffTest, KubeletNumbersByDefault) {
  Backoff backoff;
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(10));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(20));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(40));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(80));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(160));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(300));
  EXPECT_EQ(backoff.Next(seconds(1)), seconds(300));
  EXPECT_EQ(backoff.Next(minutes(9)), seconds(300));
  EXPECT_EQ(backoff.Next(minutes(10)), seconds(10));
  EXPECT_EQ(backoff.Next(seconds(0)), seconds(20));
}

TEST(BackoffTest, DoublesUpToMax) {
  Backoff backoff(BackoffPolicy{milliseconds(10), milliseconds(50), milliseconds(100)});
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(10));
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(20));
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(40));
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(50));
  EXPECT_EQ(backoff.Next(milliseconds(99)), milliseconds(50));
}

TEST(BackoffTest, LongRunResets) {
  Backoff backoff(BackoffPolicy{milliseconds(10), milliseconds(50), milliseconds(100)});
  (void)backoff.Next(milliseconds(0));
  (void)backoff.Next(milliseconds(0));
  EXPECT_EQ(backoff.Next(milliseconds(100)), milliseconds(10));
  EXPECT_EQ(backoff.Next(milliseconds(1)), milliseconds(20));
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.Next(milliseconds(1)), milliseconds(10));
}

TEST(BackoffTest, DefaultsAreKubeletLike) {
  Backoff backoff;
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(10000));
  for (int i = 0; i < 100; ++i) {
    EXPECT_LE(backoff.Next(milliseconds(0)), milliseconds(300000));
  }
  EXPECT_EQ(backoff.Next(milliseconds(0)), milliseconds(300000));
  EXPECT_EQ(backoff.Next(milliseconds(600000)), milliseconds(10000));
}

TEST(BackoffTest, EnvironmentScales) {
  ::setenv("COMET_BACKOFF_BASE_MS", "100", 1);  // NOLINT(concurrency-mt-unsafe)
  ::setenv("COMET_BACKOFF_MAX_MS", "400", 1);   // NOLINT(concurrency-mt-unsafe)
  BackoffPolicy policy = BackoffPolicy::FromEnvironment();
  EXPECT_EQ(policy.base, milliseconds(100));
  EXPECT_EQ(policy.max, milliseconds(400));
  EXPECT_EQ(policy.reset_after, milliseconds(800));
  ::setenv("COMET_BACKOFF_BASE_MS", "bogus", 1);  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("COMET_BACKOFF_MAX_MS");             // NOLINT(concurrency-mt-unsafe)
  policy = BackoffPolicy::FromEnvironment();
  EXPECT_EQ(policy.base, milliseconds(10000));
  EXPECT_EQ(policy.max, milliseconds(300000));
  ::unsetenv("COMET_BACKOFF_BASE_MS");  // NOLINT(concurrency-mt-unsafe)
}

TEST(BackoffTest, RestartPolicies) {
  EXPECT_FALSE(ShouldRestart(pod::RestartPolicy::kNever, 1));
  EXPECT_FALSE(ShouldRestart(pod::RestartPolicy::kOnFailure, 0));
  EXPECT_TRUE(ShouldRestart(pod::RestartPolicy::kOnFailure, 137));
  EXPECT_TRUE(ShouldRestart(pod::RestartPolicy::kAlways, 0));
}

}  // namespace
}  // namespace comet::pod
