// Tests of the agent's desired state: one bad manifest file hides no other, keeps its pods when
// it breaks after having parsed, a pod name is taken once, and the pod hash changes with the file.
#include "node/desired_pods.h"

#include <gtest/gtest.h>

#include "node/unit_file.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::node {
namespace {

std::string PodYaml(const std::string& name, const std::string& image = "busybox:1.36") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\nspec:\n  containers:\n  - name: c\n    image: " + image + "\n";
}

class ManifestDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-node-manifests-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
  }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(os::WriteFile(os::JoinPath(dir_->path(), name), text));
  }
  std::unique_ptr<os::TempDir> dir_;
};

TEST_F(ManifestDirTest, OneBadFileHidesNoOther) {
  Write("a.yaml", PodYaml("web"));
  Write("b.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec: {containers: [{}]}\n");
  Write("c.yml", PodYaml("db"));
  Write(".hidden.yaml", PodYaml("hidden"));
  Write("notes.txt", PodYaml("text"));
  ManifestDir manifests(dir_->path());
  std::vector<std::string> problems;
  auto pods = manifests.Load(&problems);
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_TRUE(pods.contains("default/web"));
  EXPECT_TRUE(pods.contains("default/db"));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().find("b.yaml"), std::string::npos) << problems.front();
  EXPECT_EQ(pods.at("default/web").file, os::JoinPath(dir_->path(), "a.yaml"));
  EXPECT_EQ(*pods.at("default/web").content, PodYaml("web"));
}

TEST_F(ManifestDirTest, ABrokenFileKeepsItsPods) {
  Write("a.yaml", PodYaml("web"));
  ManifestDir manifests(dir_->path());
  auto first = manifests.Load(nullptr);
  ASSERT_EQ(first.size(), 1u);
  Write("a.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [");  // a half-written save
  std::vector<std::string> problems;
  auto second = manifests.Load(&problems);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second.at("default/web").hash, first.at("default/web").hash);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("kept"), std::string::npos) << problems[0];
  // Unchanged and still broken: said once.
  problems.clear();
  (void)manifests.Load(&problems);
  EXPECT_TRUE(problems.empty());
  // Removed: gone.
  ASSERT_EQ(::unlink(os::JoinPath(dir_->path(), "a.yaml").c_str()), 0);
  EXPECT_TRUE(manifests.Load(nullptr).empty());
}

TEST_F(ManifestDirTest, ANameIsTakenOnce) {
  Write("a.yaml", PodYaml("web"));
  Write("b.yaml", PodYaml("web", "busybox:other"));
  ManifestDir manifests(dir_->path());
  std::vector<std::string> problems;
  auto pods = manifests.Load(&problems);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods.at("default/web").file, os::JoinPath(dir_->path(), "a.yaml"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("b.yaml"), std::string::npos);
}

TEST_F(ManifestDirTest, TheHashFollowsTheFile) {
  Write("a.yaml", PodYaml("web") + "---\n" + PodYaml("db"));
  ManifestDir manifests(dir_->path());
  auto before = manifests.Load(nullptr);
  ASSERT_EQ(before.size(), 2u);
  EXPECT_NE(before.at("default/web").hash, before.at("default/db").hash);
  EXPECT_EQ(manifests.Load(nullptr).at("default/web").hash, before.at("default/web").hash);
  Write("a.yaml", PodYaml("web", "busybox:1.37") + "---\n" + PodYaml("db"));
  auto after = manifests.Load(nullptr);
  EXPECT_NE(after.at("default/web").hash, before.at("default/web").hash);
  EXPECT_NE(after.at("default/web").uid, before.at("default/web").uid);
  EXPECT_TRUE(IsValidPodUuid(after.at("default/web").uid)) << after.at("default/web").uid;
}

TEST_F(ManifestDirTest, AMissingDirectoryIsAProblem) {
  ManifestDir manifests(os::JoinPath(dir_->path(), "nope"));
  std::vector<std::string> problems;
  EXPECT_TRUE(manifests.Load(&problems).empty());
  EXPECT_EQ(problems.size(), 1u);
}

TEST_F(ManifestDirTest, ADirectoryThatVanishesKeepsItsPods) {
  const std::string sub = os::JoinPath(dir_->path(), "m");
  ASSERT_TRUE(os::MkdirAll(sub));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(sub, "a.yaml"), PodYaml("web")));
  ManifestDir manifests(sub);
  ASSERT_EQ(manifests.Load(nullptr).size(), 1u);
  ASSERT_EQ(::rename(sub.c_str(), (sub + ".old").c_str()), 0);
  std::vector<std::string> problems;
  EXPECT_EQ(manifests.Load(&problems).size(), 1u);
  EXPECT_EQ(problems.size(), 1u);
  // Back, without the file: now it is gone.
  ASSERT_TRUE(os::MkdirAll(sub));
  EXPECT_TRUE(manifests.Load(nullptr).empty());
}

TEST(PodHash, Shape) {
  EXPECT_EQ(PodHash("x", "a").size(), 16u);
  EXPECT_NE(PodHash("x", "a"), PodHash("x", "b"));
  EXPECT_NE(PodHash("xa", ""), PodHash("x", "a"));
  EXPECT_EQ(UuidFromSeed("s"), UuidFromSeed("s"));
  EXPECT_TRUE(IsValidPodUuid(UuidFromSeed("s")));
}

TEST(ManifestFileNames, WhatIsRead) {
  EXPECT_TRUE(IsManifestFileName("pod.yaml"));
  EXPECT_TRUE(IsManifestFileName("pod.yml"));
  EXPECT_TRUE(IsManifestFileName("pod.json"));
  EXPECT_FALSE(IsManifestFileName(".pod.yaml.swp"));
  EXPECT_FALSE(IsManifestFileName(".pod.yaml"));
  EXPECT_FALSE(IsManifestFileName("pod.yaml~"));
  EXPECT_FALSE(IsManifestFileName(""));
}

}  // namespace
}  // namespace comet::node
