// Tests of stage0 (pod_run.h, pod_run_app.h): apps built from image configs and flags, and
// `prepare`/`run` against a real image store in a temp data dir, checking that every failure
// before the supervisor runs leaves no pod directory and no image lease behind.
#include "cli/pod_run.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/pod_run_app.h"
#include "cli/pod_run_flags.h"
#include "image/layer_trees.h"
#include "image/transfer.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_store.h"
#include "testing/test_images.h"

namespace comet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ResolvedImage FakeImage() {
  ResolvedImage image;
  image.record.manifest_digest = *image::Digest::Parse("sha256:" + std::string(64, 'a'));
  image.record.config_digest = *image::Digest::Parse("sha256:" + std::string(64, 'c'));
  image.config.config.entrypoint = {"/entry"};
  image.config.config.cmd = {"default", "args"};
  image.config.config.env = {"PATH=/img/bin", "A=image", "B=image"};
  image.config.config.user = "1000:50";
  image.config.config.working_dir = "/work";
  return image;
}

AppFlags Flags(const std::vector<std::string>& args) {
  auto parsed = ParsePodRunArgs("run", args);
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  return parsed->apps.at(0);
}

TEST(BuildApp, ImageDefaults) {
  auto app = BuildApp(Flags({"img"}), "web", FakeImage(), {}, {});
  ASSERT_TRUE(app) << app.error().ToString();
  EXPECT_EQ(app->name, "web");
  EXPECT_EQ(app->image, "img");
  EXPECT_EQ(app->image_id, "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(app->image_config_id, "sha256:" + std::string(64, 'c'));  // `comet list`'s IMAGE ID
  EXPECT_THAT(app->exec, ElementsAre("/entry", "default", "args"));
  EXPECT_THAT(app->env, ElementsAre("PATH=/img/bin", "A=image", "B=image"));
  EXPECT_EQ(app->user, "1000");
  EXPECT_EQ(app->group, "50");
  EXPECT_EQ(app->working_dir, "/work");
}

TEST(BuildApp, ArgsReplaceCmdAndExecReplacesBoth) {
  EXPECT_THAT(BuildApp(Flags({"img", "--", "x", "y"}), "a", FakeImage(), {}, {})->exec,
              ElementsAre("/entry", "x", "y"));
  EXPECT_THAT(BuildApp(Flags({"img", "--"}), "a", FakeImage(), {}, {})->exec,
              ElementsAre("/entry"));
  EXPECT_THAT(
      BuildApp(Flags({"img", "--exec=/bin/sh", "--", "-c", "true"}), "a", FakeImage(), {}, {})
          ->exec,
      ElementsAre("/bin/sh", "-c", "true"));
  ResolvedImage empty = FakeImage();
  empty.config.config.entrypoint.clear();
  empty.config.config.cmd.clear();
  auto none = BuildApp(Flags({"img"}), "a", empty, {}, {});
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().ToString(), HasSubstr("app a: no command"));
}

TEST(BuildApp, EnvLaterWinsAndPathDefaulted) {
  auto app = BuildApp(Flags({"img", "--environment=B=flag", "--environment=C=flag"}), "a",
                      FakeImage(), {"A=pod", "B=pod"}, {});
  EXPECT_THAT(app->env, ElementsAre("PATH=/img/bin", "A=pod", "B=flag", "C=flag"));
  ResolvedImage no_path = FakeImage();
  no_path.config.config.env = {"X=1"};
  EXPECT_THAT(BuildApp(Flags({"img"}), "a", no_path, {}, {})->env,
              ElementsAre(kDefaultPathEnv, "X=1"));
}

TEST(BuildApp, FlagsOverrideUserGroupWorkdir) {
  auto app =
      BuildApp(Flags({"img", "--user=nobody", "--working-dir=/tmp"}), "a", FakeImage(), {}, {});
  EXPECT_EQ(app->user, "nobody");
  EXPECT_EQ(app->group, "50");
  EXPECT_EQ(app->working_dir, "/tmp");
  ResolvedImage plain = FakeImage();
  plain.config.config.user.clear();
  plain.config.config.working_dir.clear();
  app = BuildApp(Flags({"img", "--group=7"}), "a", plain, {}, {});
  EXPECT_EQ(app->user, "0");
  EXPECT_EQ(app->group, "7");
  EXPECT_EQ(app->working_dir, "/");
  // A named user without a group runs with the user's primary group (resolved by the
  // supervisor from the image's /etc/passwd), never with group root by default.
  app = BuildApp(Flags({"img", "--user=nobody"}), "a", plain, {}, {});
  EXPECT_EQ(app->user, "nobody");
  EXPECT_EQ(app->group, "");
}

TEST(BuildApp, AppMountReplacesPodMountOnTheSameTarget) {
  std::vector<pod::MountPoint> pod_mounts = {{"a", "/data", false, ""}, {"b", "/other", false, ""}};
  auto app =
      BuildApp(Flags({"img", "--mount=volume=c,target=/data"}), "x", FakeImage(), {}, pod_mounts);
  ASSERT_EQ(app->mounts.size(), 2u);
  EXPECT_EQ(app->mounts[0].volume, "b");
  EXPECT_EQ(app->mounts[1].volume, "c");
}

TEST(LoadPodEnv, FilesThenFlags) {
  auto dir = os::TempDir::Create();
  ASSERT_TRUE(dir);
  const std::string file = os::JoinPath(dir->path(), "env");
  ASSERT_TRUE(os::WriteFile(file, "# comment\n\nA=file\n  B=file  \n"));
  PodRunOptions options;
  options.set_env_files = {file};
  options.set_env = {"B=flag"};
  EXPECT_THAT(LoadPodEnv(options).value(), ElementsAre("A=file", "B=flag"));
  ASSERT_TRUE(os::WriteFile(file, "NOVALUE\n"));
  auto bad = LoadPodEnv(options);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().ToString(), HasSubstr("line 1"));
}

// Stage0 against a real store: a temp data dir with one imported test image.
class Stage0Test : public ::testing::Test {
 protected:
  void SetUp() override {
    // No user-namespace re-exec in a test binary (rootless_userns.h).
    // NOLINTNEXTLINE(concurrency-mt-unsafe): gtest runs tests on one thread
    ::setenv("COMET_USERNS", "0", 1);
    auto dir = os::TempDir::Create("comet-stage0-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    global_.dir = os::JoinPath(dir_->path(), "data");
    const std::string layout = os::JoinPath(dir_->path(), "layout");
    auto blob = testing::WriteImage(layout, testing::SmallImageSpec());
    ASSERT_TRUE(blob) << blob.error().ToString();
    ASSERT_TRUE(testing::TagInLayout(layout, *blob, "1"));
    image::StoreOptions store_options;
    store_options.root = os::JoinPath(global_.dir, "images");
    auto store = image::Store::Open(store_options);
    ASSERT_TRUE(store) << store.error().ToString();
    image::ImportOptions import;
    import.format = image::ArchiveFormat::kOciLayout;
    import.names = {*image::ParseReference("localhost/small:1")};
    import.unpack = image::DefaultUnpackOptions();
    auto imported = image::Import(*store, layout, import);
    ASSERT_TRUE(imported) << imported.error().ToString();
  }
  void TearDown() override {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): gtest runs tests on one thread
    ::unsetenv("COMET_SUPERVISOR");
  }

  // Every pod directory in every phase, and every pod lease.
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> found;
    for (const char* phase : pod::kPhaseDirs) {
      const std::string dir = os::JoinPath(os::JoinPath(global_.dir, "pods"), phase);
      if (os::IsDirectory(dir)) {
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
          found.push_back(entry.path().string());
        }
      }
    }
    const std::string leases = os::JoinPath(global_.dir, "images/leases");
    if (os::IsDirectory(leases)) {
      for (const auto& entry : std::filesystem::directory_iterator(leases)) {
        if (entry.path().filename().string().rfind("pod-", 0) == 0) {
          found.push_back(entry.path().string());
        }
      }
    }
    return found;
  }

  std::string Fails(const std::string& command, const std::vector<std::string>& args) {
    auto result = RunPodCommand(global_, command, args);
    EXPECT_FALSE(result) << command << " " << ::testing::PrintToString(args);
    EXPECT_THAT(Leftovers(), IsEmpty()) << command << " " << ::testing::PrintToString(args);
    return result ? "" : result.error().ToString();
  }

  std::unique_ptr<os::TempDir> dir_;
  CometGlobalFlags global_;
};

TEST_F(Stage0Test, PrepareMakesAPreparedPodWithItsLease) {
  auto result = RunPodCommand(global_, "prepare",
                              {"--hostname=h", "localhost/small:1", "--", "cat", "/etc/hello"});
  ASSERT_TRUE(result) << result.error().ToString();
  std::vector<std::string> left = Leftovers();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_THAT(left[0], HasSubstr("/pods/prepared/"));
  auto manifest = pod::ReadManifest(left[0]);
  ASSERT_TRUE(manifest) << manifest.error().ToString();
  ASSERT_EQ(manifest->apps.size(), 1u);
  EXPECT_EQ(manifest->apps[0].name, "small");
  // No entrypoint in the image: the arguments replace its cmd.
  EXPECT_THAT(manifest->apps[0].exec, ElementsAre("cat", "/etc/hello"));
  EXPECT_EQ(manifest->hostname, "h");
  EXPECT_THAT(left[1], HasSubstr("/leases/pod-" + manifest->uuid));
  auto lease = os::ReadFile(left[1]);
  ASSERT_TRUE(lease);
  EXPECT_THAT(*lease, HasSubstr(manifest->apps[0].image_id));
}

TEST_F(Stage0Test, BadInputLeavesNothingBehind) {
  EXPECT_THAT(Fails("prepare", {"--pull-policy=never", "localhost/nosuch:1", "--", "true"}),
              HasSubstr("image localhost/nosuch:1"));
  EXPECT_THAT(Fails("prepare", {"--volume=v,kind=host,source=/nonexistent/x", "localhost/small:1"}),
              HasSubstr("volume v: source /nonexistent/x: No such file or directory"));
  EXPECT_THAT(Fails("prepare", {"localhost/small:1", "---", "localhost/small:1"}),
              HasSubstr("\"small\" used twice"));
  EXPECT_THAT(Fails("prepare", {"--mount=volume=nov,target=/x", "localhost/small:1"}),
              HasSubstr("nov"));
  EXPECT_THAT(Fails("prepare", {"--set-env-file=/nonexistent/env", "localhost/small:1"}),
              HasSubstr("--set-env-file"));
}

TEST_F(Stage0Test, FailureAfterThePodExistsRemovesIt) {
  // --uuid-file-save is written after the manifest and the layers.
  EXPECT_THAT(Fails("prepare", {"--uuid-file-save=/nonexistent/dir/uuid", "localhost/small:1"}),
              HasSubstr("--uuid-file-save"));
}

TEST_F(Stage0Test, SupervisorThatCannotStartLeavesNothingBehind) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): gtest runs tests on one thread
  ::setenv("COMET_SUPERVISOR", "/nonexistent/comet-supervisor", 1);
  EXPECT_THAT(Fails("run", {"localhost/small:1"}), HasSubstr("COMET_SUPERVISOR"));
  // Executable but unable to exec (a missing interpreter): fails in execve, after the pod was
  // prepared and moved to run/.
  const std::string script = os::JoinPath(dir_->path(), "bad-supervisor");
  ASSERT_TRUE(os::WriteFile(script, "#!/nonexistent/interpreter\n", 0755));
  // NOLINTNEXTLINE(concurrency-mt-unsafe): gtest runs tests on one thread
  ::setenv("COMET_SUPERVISOR", script.c_str(), 1);
  const std::string uuid_file = os::JoinPath(dir_->path(), "uuid");
  EXPECT_THAT(Fails("run", {"-d", "--uuid-file-save=" + uuid_file, "localhost/small:1"}),
              HasSubstr("exec " + script));
  EXPECT_FALSE(os::Exists(uuid_file));
  EXPECT_THAT(Fails("run", {"localhost/small:1"}), HasSubstr("exec " + script));
  EXPECT_THAT(Fails("app sandbox", {}), HasSubstr("exec " + script));
}

TEST_F(Stage0Test, DetachedRunReportsTheSupervisorsError) {
  const std::string script = os::JoinPath(dir_->path(), "failing-supervisor");
  // A stand-in supervisor that reports a start failure on its --ready-fd.
  ASSERT_TRUE(os::WriteFile(script,
                            "#!/bin/sh\n"
                            "for a; do case $a in --ready-fd=*) fd=${a#--ready-fd=};; esac; done\n"
                            "eval \"echo 'error: app small: boom' >&$fd\"\n",
                            0755));
  // NOLINTNEXTLINE(concurrency-mt-unsafe): gtest runs tests on one thread
  ::setenv("COMET_SUPERVISOR", script.c_str(), 1);
  auto result = RunPodCommand(global_, "run", {"-d", "localhost/small:1"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().ToString(), "app small: boom");
  // Reap the stand-in (comet itself exits instead).
  while (::waitpid(-1, nullptr, 0) > 0) {
  }
}

TEST(PodRunHelp, EveryCommandHasHelp) {
  for (const char* command : {"run", "prepare", "run-prepared", "app sandbox", "app add"}) {
    EXPECT_THAT(PodRunHelp(command), HasSubstr("Usage: comet " + std::string(command)));
  }
  EXPECT_THAT(PodRunHelp("run"), HasSubstr("--pull-policy"));
}

}  // namespace
}  // namespace comet::cli
