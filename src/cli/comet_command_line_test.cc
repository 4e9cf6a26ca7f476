#include "cli/comet_command_line.h"

#include <gtest/gtest.h>

namespace comet::cli {
namespace {

Result<CometInvocation> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "comet");
  CometInvocation in;
  Status status = ParseCometCommandLine(args, in);
  if (!status) {
    return Err(status.error());
  }
  return in;
}

TEST(CometCommandLine, FetchWithRegistryFlags) {
  auto in = Parse({"--dir", "/d", "fetch", "--platform", "linux/arm64", "--creds", "u:p",
                   "--insecure-registry", "a:5000", "--insecure-registry", "b", "-j", "5",
                   "busybox", "docker://x/y:z"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, "fetch");
  EXPECT_EQ(in->global.dir, "/d");
  EXPECT_EQ(in->image.images, (std::vector<std::string>{"busybox", "docker://x/y:z"}));
  EXPECT_EQ(in->image.registry.platform, "linux/arm64");
  EXPECT_EQ(in->image.registry.creds, "u:p");
  EXPECT_EQ(in->image.registry.insecure_registries, (std::vector<std::string>{"a:5000", "b"}));
  EXPECT_EQ(in->image.registry.jobs, 5);
}

TEST(CometCommandLine, ImagePullIsFetch) {
  auto in = Parse({"image", "pull", "-q", "busybox"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, "fetch");
  EXPECT_TRUE(in->image.quiet);
}

TEST(CometCommandLine, ImageListAliasAndFormat) {
  auto in = Parse({"image", "ls", "--format=json", "--no-trunc"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, "image list");
  EXPECT_EQ(in->image.format, "json");
  EXPECT_TRUE(in->image.no_trunc);
  EXPECT_FALSE(Parse({"image", "list", "--format=yaml"}));
}

TEST(CometCommandLine, GcGracePeriod) {
  auto in = Parse({"image", "gc", "--grace-period=30m", "--dry-run"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->image.grace_period, std::chrono::minutes(30));
  EXPECT_TRUE(in->image.dry_run);
  auto defaulted = Parse({"image", "gc"});
  ASSERT_TRUE(defaulted);
  EXPECT_EQ(defaulted->image.grace_period, std::chrono::hours(24));
  auto bad = Parse({"image", "gc", "--grace-period=soon"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("image gc: --grace-period: invalid duration"),
            std::string::npos)
      << bad.error().ToString();
}

TEST(CometCommandLine, ExportExtractRenderTag) {
  auto exp = Parse({"image", "export", "--format", "docker-archive", "img", "/tmp/x.tar"});
  ASSERT_TRUE(exp) << exp.error().ToString();
  EXPECT_EQ(exp->command, "image export");
  EXPECT_EQ(exp->image.target, "/tmp/x.tar");
  EXPECT_EQ(exp->image.format, "docker-archive");
  auto render = Parse({"image", "render", "--rootfs-only", "img", "/tmp/d"});
  ASSERT_TRUE(render);
  EXPECT_TRUE(render->image.rootfs_only);
  auto tag = Parse({"image", "tag", "img", "new:name"});
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->image.images.front(), "img");
  EXPECT_EQ(tag->image.target, "new:name");
}

TEST(CometCommandLine, ErrorsNameTheCommand) {
  auto missing = Parse({"image", "rm"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().ToString().find("image rm:"), std::string::npos)
      << missing.error().ToString();
  EXPECT_FALSE(Parse({"image", "export", "--format", "zip", "a", "b"}));
  EXPECT_FALSE(Parse({"fetch", "-j", "0", "a"}));
}

TEST(CometCommandLine, HelpEverywhere) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"},
                                               {"image", "--help"},
                                               {"image"},
                                               {"fetch", "--help"},
                                               {"image", "gc", "--help"},
                                               {}}) {
    auto in = Parse(args);
    ASSERT_TRUE(in);
    EXPECT_TRUE(in->command.empty());
    EXPECT_FALSE(in->output.empty());
  }
  auto help = Parse({"image", "render", "--help"});
  ASSERT_TRUE(help);
  EXPECT_NE(help->output.find("--rootfs-only"), std::string::npos);
}

// `comet node` hands everything after the command word to comet-node, --help included.
TEST(CometCommandLine, NodeArgumentsPassThrough) {
  auto in = Parse({"--dir=/d", "node", "describe", "pod", "web", "-n", "prod", "--help"});
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->command, "node");
  EXPECT_TRUE(in->output.empty());
  EXPECT_EQ(in->global.dir, "/d");
  EXPECT_EQ(in->node.args,
            (std::vector<std::string>{"describe", "pod", "web", "-n", "prod", "--help"}));
  auto flags = Parse({"node", "--pod-manifest-path=/m", "--sync-frequency=1s"});
  ASSERT_TRUE(flags) << flags.error().ToString();
  EXPECT_EQ(flags->node.args,
            (std::vector<std::string>{"--pod-manifest-path=/m", "--sync-frequency=1s"}));
}

}  // namespace
}  // namespace comet::cli
