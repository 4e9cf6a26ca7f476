// Tests for platforms: the host's, --platform parsing, and choosing an index entry.
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/manifest.h"

namespace comet::image {
namespace {

using ::testing::HasSubstr;

Platform P(std::string os, std::string architecture, std::string variant = {}) {
  return Platform{.os = std::move(os),
                  .architecture = std::move(architecture),
                  .variant = std::move(variant),
                  .os_version = {},
                  .os_features = {}};
}

TEST(PlatformTest, ToString) {
  EXPECT_EQ(P("linux", "amd64").ToString(), "linux/amd64");
  EXPECT_EQ(P("linux", "arm", "v7").ToString(), "linux/arm/v7");
}

TEST(PlatformTest, HostPlatform) {
  Platform host = HostPlatform();
  EXPECT_EQ(host.os, "linux");
#if defined(__x86_64__)
  EXPECT_EQ(host.ToString(), "linux/amd64");
#elif defined(__aarch64__)
  EXPECT_EQ(host.ToString(), "linux/arm64/v8");
#endif
  auto parsed = ParsePlatform(host.ToString());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, host);
}

TEST(PlatformTest, Parses) {
  struct Case {
    std::string text;
    Platform want;
  };
  const Case cases[] = {
      {"linux/arm64/v8", P("linux", "arm64", "v8")},
      {"linux/amd64", P("linux", "amd64")},
      {"arm64", P("linux", "arm64")},
      {"Linux/AMD64", P("linux", "amd64")},
      {"linux/x86_64", P("linux", "amd64")},
      {"aarch64", P("linux", "arm64")},
      {"linux/arm/7", P("linux", "arm", "v7")},
      {"linux/armhf", P("linux", "arm", "v7")},
      {"linux/armel", P("linux", "arm", "v6")},
      {"i386", P("linux", "386")},
      {"windows/amd64", P("windows", "amd64")},
      {"linux/ppc64le", P("linux", "ppc64le")},
  };
  for (const auto& c : cases) {
    auto platform = ParsePlatform(c.text);
    ASSERT_TRUE(platform) << c.text << ": " << platform.error().ToString();
    EXPECT_EQ(*platform, c.want) << c.text << " -> " << platform->ToString();
  }
}

TEST(PlatformTest, RejectsMalformed) {
  const std::vector<std::string> texts = {"",
                                          "/",
                                          "linux/",
                                          "/amd64",
                                          "linux//v7",
                                          "linux/arm/v7/x",
                                          "linux amd64",
                                          "linux/amd64\n",
                                          std::string(200, 'a')};
  for (const std::string& text : texts) {
    auto platform = ParsePlatform(text);
    ASSERT_FALSE(platform) << text;
    EXPECT_THAT(platform.error().message(), HasSubstr("invalid platform"));
  }
}

Index IndexOf(const std::vector<std::optional<Platform>>& platforms) {
  Index index;
  char fill = '0';
  for (const auto& platform : platforms) {
    index.manifests.push_back(Descriptor{.media_type = std::string(media_type::kOciManifest),
                                         .digest = Digest::Sha256Of(std::string(1, fill++)),
                                         .size = 1,
                                         .urls = {},
                                         .annotations = {},
                                         .platform = platform});
  }
  return index;
}

TEST(PlatformTest, SelectsBestEntry) {
  const Index multi =
      IndexOf({P("linux", "amd64"), P("linux", "arm", "v5"), P("linux", "arm", "v6"),
               P("linux", "arm", "v7"), P("linux", "arm64", "v8"), P("linux", "386"), std::nullopt,
               P("unknown", "unknown"), P("windows", "amd64")});
  const Index arm_low = IndexOf({P("linux", "arm", "v5"), P("linux", "arm", "v6")});
  const Index arm64_bare = IndexOf({P("linux", "amd64"), P("linux", "arm64")});
  const Index amd64_levels = IndexOf({P("linux", "amd64", "v3"), P("linux", "amd64", "v2")});
  const Index amd64_mixed = IndexOf({P("linux", "amd64", "v2"), P("linux", "amd64")});
  const Index arm_bare = IndexOf({P("linux", "arm")});
  const Index ppc = IndexOf({P("linux", "ppc64le", "power9"), P("linux", "ppc64le")});
  struct Case {
    const Index* index = nullptr;
    Platform want;
    std::optional<size_t> chosen;
  };
  const Case cases[] = {
      {&multi, P("linux", "amd64"), 0},
      {&multi, P("linux", "arm", "v7"), 3},
      {&multi, P("linux", "arm", "v6"), 2},
      {&multi, P("linux", "arm", "v8"), 3},  // highest variant not above v8
      {&multi, P("linux", "arm"), 3},        // arm alone means v7
      {&multi, P("linux", "arm64"), 4},      // v8 entry serves a bare arm64
      {&multi, P("linux", "arm64", "v8"), 4},
      {&multi, P("linux", "386"), 5},
      {&multi, P("windows", "amd64"), 8},
      {&multi, P("linux", "s390x"), std::nullopt},
      {&multi, P("darwin", "amd64"), std::nullopt},
      {&arm_low, P("linux", "arm", "v7"), 1},
      {&arm_low, P("linux", "arm", "v5"), 0},
      {&arm_low, P("linux", "arm", "v4"), std::nullopt},
      {&arm64_bare, P("linux", "arm64", "v8"), 1},  // bare arm64 entry serves v8
      {&arm64_bare, P("linux", "arm64", "v9"), 1},
      {&amd64_levels, P("linux", "amd64"), 1},  // no level wanted: the most portable
      {&amd64_levels, P("linux", "amd64", "v3"), 0},
      {&amd64_levels, P("linux", "amd64", "v4"), 0},
      {&amd64_levels, P("linux", "amd64", "v1"), std::nullopt},
      {&amd64_mixed, P("linux", "amd64"), 1},  // exact (empty) match wins
      {&arm_bare, P("linux", "arm", "v7"), 0},
      {&arm_bare, P("linux", "arm", "v6"), std::nullopt},
      {&ppc, P("linux", "ppc64le"), 1},
      {&ppc, P("linux", "ppc64le", "power9"), 0},
      {&ppc, P("linux", "ppc64le", "power10"), std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(SelectPlatform(*c.index, c.want), c.chosen) << c.want.ToString();
  }
  EXPECT_EQ(SelectPlatform(Index{}, HostPlatform()), std::nullopt);
}

}  // namespace
}  // namespace comet::image
