#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/yaml_parse.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::kube {
namespace {

using ::testing::ElementsAre;

std::string PodYaml(const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
         "}\nspec:\n  containers: [{name: c, image: busybox}]\n";
}

class YamlLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("kube-load-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = os::JoinPath(dir_->path(), name);
    EXPECT_TRUE(os::WriteFile(path, text));
    return path;
  }

  std::optional<os::TempDir> dir_;
};

TEST_F(YamlLoadTest, DirectoryManifestsInNameOrderShareConfigMaps) {
  Write("b.yml", PodYaml("second"));
  Write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v}\n---\n" +
                      PodYaml("first"));
  Write("c.json",
        R"({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}})");
  Write(".hidden.yaml", "not: [valid");  // editor leftovers are skipped
  Write("notes.txt", "not: [valid");
  ASSERT_EQ(::mkdir(os::JoinPath(dir_->path(), "sub.yaml").c_str(), 0755), 0);
  std::vector<std::string> warnings;
  auto objects = LoadKubeFiles({dir_->path()}, &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 2U);
  EXPECT_EQ(objects->pods[0].metadata.name, "first");
  EXPECT_EQ(objects->pods[0].source, dir_->path() + "/a.yaml: document 2 (Pod first)");
  EXPECT_EQ(objects->pods[1].metadata.name, "second");
  ASSERT_EQ(objects->config_maps.size(), 1U);
  ASSERT_EQ(objects->secrets.size(), 1U);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(YamlLoadTest, FilesAndDirectoriesTogether) {
  const std::string file = Write("one.yaml", PodYaml("one"));
  const std::string sub = os::JoinPath(dir_->path(), "more");
  ASSERT_TRUE(os::MkdirAll(sub));
  ASSERT_TRUE(os::WriteFile(os::JoinPath(sub, "two.yaml"), PodYaml("two")));
  auto objects = LoadKubeFiles({file, sub}, nullptr);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 2U);
  EXPECT_EQ(objects->pods[1].metadata.name, "two");
}

TEST_F(YamlLoadTest, DuplicatePodsAcrossFilesAreErrors) {
  const std::string a = Write("a.yaml", PodYaml("web"));
  const std::string b = Write("b.yaml",
                              "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
                              "---\n" +
                                  PodYaml("web"));
  auto objects = LoadKubeFiles({dir_->path()}, nullptr);
  ASSERT_FALSE(objects);
  EXPECT_EQ(objects.error().ToString(), b +
                                            ": document 2 (Pod web): pod \"default/web\" is "
                                            "already defined by " +
                                            a + ": document 1 (Pod web)");
}

TEST_F(YamlLoadTest, ErrorsNameTheFile) {
  const std::string bad = Write("bad.yaml", "apiVersion: v1\nkind: Pod\n  x: [\n");
  auto objects = LoadKubeFiles({bad}, nullptr);
  ASSERT_FALSE(objects);
  EXPECT_EQ(objects.error().ToString().rfind(bad + ": line ", 0), 0U) << objects.error().ToString();

  objects = LoadKubeFiles({os::JoinPath(dir_->path(), "absent.yaml")}, nullptr);
  ASSERT_FALSE(objects);
  EXPECT_EQ(objects.error().code(), ENOENT);

  const std::string big = Write("big.yaml", std::string(kMaxManifestBytes + 1, '#'));
  objects = LoadKubeFiles({big}, nullptr);
  ASSERT_FALSE(objects);
  EXPECT_EQ(objects.error().ToString(), big + ": more than 8388608 bytes");
}

TEST_F(YamlLoadTest, EmptyDirectoryWarns) {
  std::vector<std::string> warnings;
  auto objects = LoadKubeFiles({dir_->path()}, &warnings);
  ASSERT_TRUE(objects) << objects.error().ToString();
  EXPECT_THAT(warnings, ElementsAre(dir_->path() + ": no *.yaml, *.yml or *.json files"));
}

TEST_F(YamlLoadTest, ReadsStdin) {
  const std::string file = Write("in.yaml", PodYaml("from-stdin"));
  const int saved = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  ASSERT_GE(saved, 0);
  const int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_EQ(::dup2(in, STDIN_FILENO), STDIN_FILENO);
  ::close(in);
  auto objects = LoadKubeFiles({"-"}, nullptr);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ASSERT_TRUE(objects) << objects.error().ToString();
  ASSERT_EQ(objects->pods.size(), 1U);
  EXPECT_EQ(objects->pods[0].source, "stdin: document 1 (Pod from-stdin)");
}

}  // namespace
}  // namespace comet::kube
