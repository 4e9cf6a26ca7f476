#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "supervisor/supervisor.h"

namespace comet::supervisor {
namespace {

class CheckStoreLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-layers-");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
    data_ = dir_->path();
    layers_ = data_ + "/images/layers";
    ASSERT_TRUE(os::MkdirAll(layers_ + "/sha256/" + hex256_, 0755));
    ASSERT_TRUE(os::MkdirAll(layers_ + "/sha512/" + std::string(128, 'b'), 0755));
    ASSERT_TRUE(os::MkdirAll(data_ + "/elsewhere/" + hex256_, 0755));
  }

  bool Accepted(const std::string& layer) const {
    return CheckStoreLayer(data_, layer).has_value();
  }

  std::unique_ptr<os::TempDir> dir_;
  std::string data_;
  std::string layers_;
  std::string hex256_ = std::string(63, 'a') + "0";
};

TEST_F(CheckStoreLayerTest, AcceptsOnlyAStoreLayerTree) {
  EXPECT_TRUE(Accepted(layers_ + "/sha256/" + hex256_));
  EXPECT_TRUE(Accepted(layers_ + "/sha512/" + std::string(128, 'b')));
  // Shapes that merely start with the layers directory.
  EXPECT_FALSE(Accepted(layers_ + "/sha256"));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/"));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + hex256_ + "/"));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + hex256_ + "/etc"));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/../../../elsewhere/" + hex256_));
  EXPECT_FALSE(Accepted(layers_ + "/tmp/" + hex256_));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + std::string(63, 'a')));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + std::string(64, 'A')));
  EXPECT_FALSE(Accepted(layers_ + "/sha512/" + hex256_));
  EXPECT_FALSE(Accepted(data_ + "/images/layers-x/sha256/" + hex256_));
  EXPECT_FALSE(Accepted(data_ + "/elsewhere/" + hex256_));
  // Missing, or not a directory.
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + std::string(64, 'c')));
  ASSERT_TRUE(os::WriteFile(layers_ + "/sha256/" + std::string(64, 'd'), "x"));
  EXPECT_FALSE(Accepted(layers_ + "/sha256/" + std::string(64, 'd')));
}

TEST_F(CheckStoreLayerTest, RefusesSymlinks) {
  std::string link = layers_ + "/sha256/" + std::string(64, 'e');
  ASSERT_EQ(::symlink((data_ + "/elsewhere/" + hex256_).c_str(), link.c_str()), 0);
  EXPECT_FALSE(Accepted(link));
  // A symlinked algorithm directory leads elsewhere too.
  ASSERT_EQ(::symlink((data_ + "/elsewhere").c_str(), (layers_ + "/sha512x").c_str()), 0);
  ASSERT_TRUE(os::RemoveAll(layers_ + "/sha512"));
  ASSERT_EQ(::rename((layers_ + "/sha512x").c_str(), (layers_ + "/sha512").c_str()), 0);
  ASSERT_TRUE(os::MkdirAll(data_ + "/elsewhere/" + std::string(128, 'f'), 0755));
  EXPECT_FALSE(Accepted(layers_ + "/sha512/" + std::string(128, 'f')));
}

}  // namespace
}  // namespace comet::supervisor
