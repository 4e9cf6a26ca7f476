// Tests of CDI kinds and qualified device names.
#include "cdi/names.h"

#include <string>

#include <gtest/gtest.h>

namespace comet::cdi {
namespace {

TEST(CdiNames, ParsesQualifiedNames) {
  auto name = ParseQualifiedName("nvidia.com/gpu=0");
  ASSERT_TRUE(name) << name.error().ToString();
  EXPECT_EQ(name->vendor, "nvidia.com");
  EXPECT_EQ(name->class_name, "gpu");
  EXPECT_EQ(name->name, "0");
  EXPECT_EQ(name->Kind(), "nvidia.com/gpu");
  EXPECT_EQ(name->ToString(), "nvidia.com/gpu=0");
  EXPECT_TRUE(ParseQualifiedName("foo.bar.baz/foo-bar123.B_az=GPU-a1:b_2.c"));
  EXPECT_TRUE(ParseQualifiedName("example.com/gpu=all"));
}

TEST(CdiNames, RefusesMalformedNames) {
  for (const char* bad :
       {"", "nvidia.com/gpu", "nvidia.com/gpu=", "/dev/nvidia0", "gpu=0", "nvidia.com=0/x",
        "1vendor.com/gpu=0", "nvidia.com/1gpu=0", "nvidia.com/gpu-=0", "nvidia.com/gpu=-0",
        "nvidia.com/gpu=0-", "nvidia.com/gp u=0", "nvidia.com/gpu=a/b", "nvidia.com/gpu/x=0",
        "nvidia.com/gpu=a b"}) {
    EXPECT_FALSE(ParseQualifiedName(bad)) << bad;
  }
  auto error = ParseQualifiedName("nvidia.com/gpu=a b");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().ToString().find("nvidia.com/gpu=a b"), std::string::npos)
      << error.error().ToString();
}

TEST(CdiNames, TellsCdiNamesFromPaths) {
  EXPECT_TRUE(LooksQualified("nvidia.com/gpu=0"));
  EXPECT_FALSE(LooksQualified("/dev/fuse"));
  EXPECT_FALSE(LooksQualified("/dev/a=b"));
  EXPECT_FALSE(LooksQualified("/dev/sda:/dev/xvda:rw"));
  EXPECT_FALSE(LooksQualified("gpu=0"));
}

TEST(CdiNames, KindsAndDeviceNames) {
  EXPECT_TRUE(ValidateKind("vendor.com/foo"));
  EXPECT_TRUE(ValidateKind("foo.bar.baz/foo-bar123.B_az"));
  EXPECT_FALSE(ValidateKind("foo"));
  EXPECT_FALSE(ValidateKind("vendor.com/foo/"));
  EXPECT_FALSE(ValidateKind("vendor.com/foo/bar"));
  EXPECT_FALSE(ValidateKind("vendor.com/" + std::string(64, 'a')));
  EXPECT_TRUE(ValidateKind("vendor.com/" + std::string(63, 'a')));
  EXPECT_TRUE(ValidateDeviceName("0"));
  EXPECT_TRUE(ValidateDeviceName("MIG-1:2"));
  EXPECT_FALSE(ValidateDeviceName(""));
  EXPECT_FALSE(ValidateDeviceName("a=b"));
  EXPECT_FALSE(ValidateDeviceName(std::string(256, 'a')));
}

}  // namespace
}  // namespace comet::cdi
