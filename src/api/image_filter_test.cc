#include "api/image_filter.h"

#include <gtest/gtest.h>

namespace comet::api {
namespace {

v1alpha::Image Busybox() {
  v1alpha::Image image;
  image.set_id("sha256:0123456789abcdef");
  image.set_name("docker.io/library/busybox");
  image.set_version("latest");
  return image;
}

// rkt's satisfiesImageFilter put the ids in a set: only the whole id matches.
TEST(ImageFilterTest, IdsMatchExactly) {
  const v1alpha::Image image = Busybox();
  v1alpha::ImageFilter whole;
  whole.add_ids("sha256:0123456789abcdef");
  EXPECT_TRUE(ImageMatchesFilter(image, whole));
  for (const char* partial : {"sha256:0123", "0123456789abcdef", "0123", "sha256:", ""}) {
    v1alpha::ImageFilter filter;
    filter.add_ids(partial);
    EXPECT_FALSE(ImageMatchesFilter(image, filter)) << partial;
  }
  v1alpha::ImageFilter any;
  any.add_ids("sha256:other");
  any.add_ids("sha256:0123456789abcdef");
  EXPECT_TRUE(ImageMatchesFilter(image, any));
}

TEST(ImageFilterTest, ValuesAreBounded) {
  ImageFilters filters;
  v1alpha::ImageFilter* filter = filters.Add();
  for (int i = 0; i < kMaxImageFilterValues; ++i) {
    filter->add_keywords("k" + std::to_string(i));
  }
  EXPECT_TRUE(ValidateImageFilters(filters));
  filter->add_keywords("one-too-many");
  Status invalid = ValidateImageFilters(filters);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), EINVAL);
  EXPECT_NE(invalid.error().ToString().find("filters[0]"), std::string::npos);

  ImageFilters labels;
  for (int i = 0; i <= kMaxImageFilterValues; ++i) {
    v1alpha::KeyValue* kv = labels.Add()->add_labels();
    kv->set_key("k");
    kv->set_value("v");
  }
  EXPECT_FALSE(ValidateImageFilters(labels));  // too many filters
  labels.RemoveLast();
  EXPECT_TRUE(ValidateImageFilters(labels));
  labels.Mutable(0)->mutable_labels()->Clear();
  for (int i = 0; i <= kMaxImageFilterValues; ++i) {
    labels.Mutable(0)->add_labels();
  }
  EXPECT_FALSE(ValidateImageFilters(labels));
}

}  // namespace
}  // namespace comet::api
