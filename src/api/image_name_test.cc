// Tests of splitting image references into v1alpha.Image name and version.
#include "api/image_name.h"

#include <gtest/gtest.h>

namespace comet::api {
namespace {

TEST(ImageNameTest, Split) {
  struct Case {
    const char* reference;
    const char* name;
    const char* version;
  };
  for (const Case& c : {
           Case{"docker.io/library/busybox:latest", "docker.io/library/busybox", "latest"},
           Case{"busybox", "busybox", ""},
           Case{"localhost:5000/a/b", "localhost:5000/a/b", ""},
           Case{"localhost:5000/a/b:1.2", "localhost:5000/a/b", "1.2"},
           Case{"x.io/a:1@sha256:abcd", "x.io/a", "1"},
           Case{"x.io/a@sha256:abcd", "x.io/a", ""},
       }) {
    ImageName split = SplitImageName(c.reference);
    EXPECT_EQ(split.name, c.name) << c.reference;
    EXPECT_EQ(split.version, c.version) << c.reference;
  }
}

}  // namespace
}  // namespace comet::api
