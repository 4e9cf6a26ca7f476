// Tests for image references: docker's normalization examples, the grammar's edges, errors, and
// loopback registry detection.
#include "image/reference.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::image {
namespace {

using ::testing::HasSubstr;

const std::string kHex(64, 'c');
const std::string kDigest = "sha256:" + kHex;

struct Good {
  std::string text;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;  // empty: none
  std::string canonical;
};

TEST(ReferenceTest, NormalizesLikeDocker) {
  const std::string tag128(128, 't');
  const Good cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest"},
      {"library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", "",
       "docker.io/library/busybox:1.36"},
      {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", "",
       "docker.io/library/busybox:musl"},
      {"busybox:latest", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest"},
      {"org/app", "docker.io", "org/app", "latest", "", "docker.io/org/app:latest"},
      {"org/team/app:v1", "docker.io", "org/team/app", "v1", "", "docker.io/org/team/app:v1"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/a/b:c", "localhost:5000", "a/b", "c", "", "localhost:5000/a/b:c"},
      {"127.0.0.1:5000/x@" + kDigest, "127.0.0.1:5000", "x", "", kDigest,
       "127.0.0.1:5000/x@" + kDigest},
      {"[::1]:5000/x", "[::1]:5000", "x", "latest", "", "[::1]:5000/x:latest"},
      {"[::1]/x", "[::1]", "x", "latest", "", "[::1]/x:latest"},
      {"[2001:db8::1]:443/ns/img:tag", "[2001:db8::1]:443", "ns/img", "tag", "",
       "[2001:db8::1]:443/ns/img:tag"},
      {"quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", "",
       "quay.io/coreos/etcd:v3.5.0"},
      {"gcr.io/google-containers/pause:3.9", "gcr.io", "google-containers/pause", "3.9", "",
       "gcr.io/google-containers/pause:3.9"},
      {"registry.example.com:8443/team/app@" + kDigest, "registry.example.com:8443", "team/app", "",
       kDigest, "registry.example.com:8443/team/app@" + kDigest},
      {"busybox:1.36@" + kDigest, "docker.io", "library/busybox", "1.36", kDigest,
       "docker.io/library/busybox:1.36@" + kDigest},
      {"docker.io/busybox@" + kDigest, "docker.io", "library/busybox", "", kDigest,
       "docker.io/library/busybox@" + kDigest},
      {"a.b/c", "a.b", "c", "latest", "", "a.b/c:latest"},
      // Without a '/', a dotted or colon-bearing name is a repository and tag, as in docker.
      {"foo.com", "docker.io", "library/foo.com", "latest", "", "docker.io/library/foo.com:latest"},
      {"localhost", "docker.io", "library/localhost", "latest", "",
       "docker.io/library/localhost:latest"},
      {"localhost:5000", "docker.io", "library/localhost", "5000", "",
       "docker.io/library/localhost:5000"},
      {"my-registry.local:5000/path/to/image:tag_1.0-rc", "my-registry.local:5000", "path/to/image",
       "tag_1.0-rc", "", "my-registry.local:5000/path/to/image:tag_1.0-rc"},
      {"a__b/c-d/e---f/g.h/i_j", "docker.io", "a__b/c-d/e---f/g.h/i_j", "latest", "",
       "docker.io/a__b/c-d/e---f/g.h/i_j:latest"},
      {"x:_tag", "docker.io", "library/x", "_tag", "", "docker.io/library/x:_tag"},
      {"Foo.Example.com/x", "Foo.Example.com", "x", "latest", "", "Foo.Example.com/x:latest"},
      {"x:" + tag128, "docker.io", "library/x", tag128, "", "docker.io/library/x:" + tag128},
      {"org/" + kHex, "docker.io", "org/" + kHex, "latest", "",
       "docker.io/org/" + kHex + ":latest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto ref = ParseReference(c.text);
    ASSERT_TRUE(ref) << ref.error().ToString();
    EXPECT_EQ(ref->registry, c.registry);
    EXPECT_EQ(ref->repository, c.repository);
    EXPECT_EQ(ref->tag, c.tag);
    EXPECT_EQ(ref->digest ? ref->digest->ToString() : "", c.digest);
    EXPECT_EQ(ref->ToString(), c.canonical);
    EXPECT_EQ(ref->Name(), c.registry + "/" + c.repository);
    EXPECT_EQ(ref->TagOrDigest(), c.digest.empty() ? c.tag : c.digest);
    auto again = ParseReference(ref->ToString());
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(*again, *ref);
  }
}

TEST(ReferenceTest, Sha512Digest) {
  std::string digest = "sha512:" + std::string(128, 'e');
  auto ref = ParseReference("busybox@" + digest);
  ASSERT_TRUE(ref) << ref.error().ToString();
  EXPECT_EQ(ref->TagOrDigest(), digest);
}

struct Bad {
  std::string text;
  std::string error;  // a substring of the message
};

TEST(ReferenceTest, RejectsInvalidReferences) {
  const Bad cases[] = {
      {"", "empty"},
      {"UPPER", "must be lowercase"},
      {"Library/busybox", "must be lowercase"},
      {"docker.io/Library/x", "must be lowercase"},
      {"localhost:5000/App:v1", "must be lowercase"},
      {"a:b:c", "invalid repository path component"},
      {"busybox:", "invalid tag"},
      {"busybox:-tag", "invalid tag"},
      {"busybox:.tag", "invalid tag"},
      {"busybox:" + std::string(129, 't'), "invalid tag"},
      {"busybox:la test", "invalid tag"},
      {"busybox@sha256:abc", "invalid digest"},
      {"busybox@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"},
      {"busybox:tag@", "missing algorithm"},
      {"@" + kDigest, "missing repository"},
      {":tag", "missing repository"},
      {"/busybox", "invalid repository path component"},
      {"busybox/", "invalid repository path component"},
      {"a//b", "invalid repository path component"},
      {"a..b", "invalid repository path component"},
      {"a.-b", "invalid repository path component"},
      {"a___b", "invalid repository path component"},
      {"-a", "invalid repository path component"},
      {"a-", "invalid repository path component"},
      {"name with space", "invalid"},
      {"localhost:abc/x", "invalid registry"},
      {"localhost:/x", "invalid registry"},
      {"localhost:99999/x", "invalid registry"},
      {"[::1/x", "invalid registry"},
      {"[zz]:5000/x", "invalid registry"},
      {"[::1]x:5000/x", "invalid registry"},
      {"exa_mple.com/x", "invalid registry"},
      {"-bad.com/x", "invalid registry"},
      {"bad-.com/x", "invalid registry"},
      {"a..com/x", "invalid registry"},
      {kHex, "64-digit hexadecimal"},
      {"example.com/" + std::string(250, 'a'), "longer than 255"},
      // docker.io/library/ counts: 18 + 238 characters is one too many.
      {std::string(238, 'a'), "longer than 255"},
  };
  for (const auto& c : cases) {
    auto ref = ParseReference(c.text);
    ASSERT_FALSE(ref) << "accepted \"" << c.text << "\" as " << ref->ToString();
    EXPECT_THAT(ref.error().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(ReferenceTest, LongestNameIsAccepted) {
  auto ref = ParseReference(std::string(237, 'a'));
  ASSERT_TRUE(ref) << ref.error().ToString();
  EXPECT_EQ(ref->Name().size(), 255U);
}

TEST(ReferenceTest, ErrorQuotesHostileTextSafely) {
  auto ref = ParseReference(std::string("bad\x01\n") + std::string(1000, 'A'));
  ASSERT_FALSE(ref);
  const std::string& message = ref.error().message();
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_LT(message.size(), 1000U);
}

TEST(ReferenceTest, DefaultRegistryOption) {
  ReferenceOptions options{.default_registry = "quay.io"};
  auto one = ParseReference("busybox", options);
  ASSERT_TRUE(one) << one.error().ToString();
  EXPECT_EQ(one->ToString(), "quay.io/busybox:latest");  // no "library/" outside docker.io
  auto two = ParseReference("org/app:1", options);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->ToString(), "quay.io/org/app:1");
  auto explicit_registry = ParseReference("docker.io/busybox", options);
  ASSERT_TRUE(explicit_registry);
  EXPECT_EQ(explicit_registry->ToString(), "docker.io/library/busybox:latest");

  auto hub = ParseReference("busybox", {.default_registry = "index.docker.io"});
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->ToString(), "docker.io/library/busybox:latest");

  auto bad = ParseReference("busybox", {.default_registry = "not a registry"});
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("invalid default registry"));
}

TEST(ReferenceTest, LoopbackRegistries) {
  for (const char* registry : {"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000",
                               "127.1.2.3:80", "[::1]", "[::1]:5000", "[0:0:0:0:0:0:0:1]:443"}) {
    EXPECT_TRUE(IsLoopbackRegistry(registry)) << registry;
  }
  for (const char* registry :
       {"", "docker.io", "quay.io:443", "128.0.0.1", "10.0.0.1:5000", "127.0.0.1.example.com",
        "localhost.example.com", "localhostx", "127.0.0.1:abc", "127.0.0.1:", "127.0.0.1:99999",
        "127.1", "[::2]", "[::1]x", "[::1", "[::ffff:8.8.8.8]", "LOCALHOST:5000x"}) {
    EXPECT_FALSE(IsLoopbackRegistry(registry)) << registry;
  }
}

}  // namespace
}  // namespace comet::image
