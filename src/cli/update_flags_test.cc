#include "cli/update_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseMemoryBytesTest, Units) {
  EXPECT_EQ(ParseMemoryBytes("0").value(), 0);
  EXPECT_EQ(ParseMemoryBytes("4096").value(), 4096);
  EXPECT_EQ(ParseMemoryBytes("10b").value(), 10);
  EXPECT_EQ(ParseMemoryBytes("64k").value(), 64 * 1024);
  EXPECT_EQ(ParseMemoryBytes("64KB").value(), 64 * 1024);
  EXPECT_EQ(ParseMemoryBytes("512m").value(), 512LL << 20);
  EXPECT_EQ(ParseMemoryBytes("2GiB").value(), 2LL << 30);
  EXPECT_EQ(ParseMemoryBytes("1.5g").value(), 3LL << 29);
  EXPECT_EQ(ParseMemoryBytes("1t").value(), 1LL << 40);
  EXPECT_EQ(ParseMemoryBytes("-1").value(), -1);
}

TEST(ParseMemoryBytesTest, Rejects) {
  for (const char* bad :
       {"", "m", "-2", "1x", "1.g", ".5g", "1.2.3g", "1 g", "9e", "1mbb", "99999999999p"}) {
    EXPECT_FALSE(ParseMemoryBytes(bad)) << bad;
  }
}

TEST(ApplyUpdateFlagsTest, OnlyGivenFieldsAreSet) {
  UpdateFlags flags;
  flags.memory = "1g";
  flags.cpu_quota = "-1";
  oci::Resources resources;
  ASSERT_TRUE(ApplyUpdateFlags(flags, resources));
  ASSERT_TRUE(resources.memory);
  EXPECT_EQ(resources.memory->limit, 1LL << 30);
  EXPECT_EQ(resources.memory->swap, std::nullopt);
  EXPECT_EQ(resources.memory->reservation, std::nullopt);
  ASSERT_TRUE(resources.cpu);
  EXPECT_EQ(resources.cpu->quota, -1);
  EXPECT_EQ(resources.cpu->shares, std::nullopt);
  EXPECT_EQ(resources.cpu->cpus, "");
  EXPECT_FALSE(resources.pids);
  EXPECT_FALSE(resources.block_io);
}

TEST(ApplyUpdateFlagsTest, AllFlags) {
  UpdateFlags flags;
  flags.memory = "100m";
  flags.memory_reservation = "50m";
  flags.memory_swap = "-1";
  flags.cpu_shares = "512";
  flags.cpu_quota = "50000";
  flags.cpu_period = "100000";
  flags.cpuset_cpus = "0-1";
  flags.cpuset_mems = "0";
  flags.pids_limit = "64";
  flags.blkio_weight = "500";
  EXPECT_FALSE(flags.Empty());
  oci::Resources resources;
  ASSERT_TRUE(ApplyUpdateFlags(flags, resources));
  EXPECT_EQ(resources.memory->limit, 100LL << 20);
  EXPECT_EQ(resources.memory->reservation, 50LL << 20);
  EXPECT_EQ(resources.memory->swap, -1);
  EXPECT_EQ(resources.cpu->shares, 512U);
  EXPECT_EQ(resources.cpu->quota, 50000);
  EXPECT_EQ(resources.cpu->period, 100000U);
  EXPECT_EQ(resources.cpu->cpus, "0-1");
  EXPECT_EQ(resources.cpu->mems, "0");
  EXPECT_EQ(resources.pids->limit, 64);
  EXPECT_EQ(resources.block_io->weight, 500);
}

TEST(ApplyUpdateFlagsTest, FlagsRefineAResourcesDocument) {
  oci::Resources resources;
  resources.memory.emplace().limit = 1000;
  resources.memory->swap = 2000;
  resources.cpu.emplace().shares = 2;
  UpdateFlags flags;
  flags.memory = "4096";
  ASSERT_TRUE(ApplyUpdateFlags(flags, resources));
  EXPECT_EQ(resources.memory->limit, 4096);
  EXPECT_EQ(resources.memory->swap, 2000);
  EXPECT_EQ(resources.cpu->shares, 2U);
}

TEST(ApplyUpdateFlagsTest, ErrorsNameTheFlag) {
  oci::Resources resources;
  UpdateFlags flags;
  flags.cpu_shares = "-5";
  EXPECT_THAT(ApplyUpdateFlags(flags, resources).error().ToString(),
              HasSubstr("invalid value \"-5\" for --cpu-shares"));
  flags = {};
  flags.memory_swap = "lots";
  EXPECT_THAT(ApplyUpdateFlags(flags, resources).error().ToString(), HasSubstr("--memory-swap"));
  flags = {};
  flags.blkio_weight = "5";
  EXPECT_THAT(ApplyUpdateFlags(flags, resources).error().ToString(), HasSubstr("--blkio-weight"));
  flags = {};
  flags.pids_limit = "ten";
  EXPECT_THAT(ApplyUpdateFlags(flags, resources).error().ToString(), HasSubstr("--pids-limit"));
}

TEST(UpdateFlagsTest, Empty) {
  UpdateFlags flags;
  EXPECT_TRUE(flags.Empty());
  flags.cpuset_mems = "0";
  EXPECT_FALSE(flags.Empty());
}

}  // namespace
}  // namespace comet::cli
