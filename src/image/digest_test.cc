// Tests for digests: parsing valid and invalid text, known hash values, and incremental hashing.
#include "image/digest.h"

#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::image {
namespace {

using ::testing::HasSubstr;

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcSha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kAbcSha512[] =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3f"
    "eebbd454d4423643ce80e2a9ac94fa54ca49f";

TEST(DigestTest, ParsesSha256) {
  auto digest = Digest::Parse(std::string("sha256:") + kAbcSha256);
  ASSERT_TRUE(digest) << digest.error().ToString();
  EXPECT_EQ(digest->algorithm(), "sha256");
  EXPECT_EQ(digest->hex(), kAbcSha256);
  EXPECT_EQ(digest->ToString(), std::string("sha256:") + kAbcSha256);
  EXPECT_EQ(digest->Short(), "ba7816bf8f01");
}

TEST(DigestTest, ParsesSha512) {
  auto digest = Digest::Parse(std::string("sha512:") + kAbcSha512);
  ASSERT_TRUE(digest) << digest.error().ToString();
  EXPECT_EQ(digest->algorithm(), "sha512");
  EXPECT_EQ(digest->hex(), kAbcSha512);
}

TEST(DigestTest, RejectsMalformedText) {
  const std::string hex64(64, 'a');
  const std::string cases[] = {
      "",
      "sha256",
      "sha256:",
      ":" + hex64,
      "sha256:" + std::string(63, 'a'),
      "sha256:" + std::string(65, 'a'),
      "sha256:" + std::string(64, 'A'),  // uppercase hex is not canonical
      "sha256:" + std::string(63, 'a') + "g",
      "sha256:" + hex64 + "\n",
      " sha256:" + hex64,
      "SHA256:" + hex64,
      "sha512:" + hex64,  // right algorithm, wrong length
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha384:" + std::string(96, 'a'),
      "sha256:" + std::string(32, 'a') + std::string(1, '\0') + std::string(31, 'a'),
  };
  for (const auto& text : cases) {
    EXPECT_FALSE(Digest::Parse(text)) << "accepted \"" << text << "\"";
  }
}

TEST(DigestTest, ErrorsSayWhatIsWrong) {
  auto missing = Digest::Parse("abc");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("missing algorithm"));
  auto algorithm = Digest::Parse("md5:abc");
  ASSERT_FALSE(algorithm);
  EXPECT_THAT(algorithm.error().message(), HasSubstr("unsupported digest algorithm"));
  auto length = Digest::Parse("sha256:abc");
  ASSERT_FALSE(length);
  EXPECT_THAT(length.error().message(), HasSubstr("64 lowercase hex digits"));
}

TEST(DigestTest, Sha256OfKnownValues) {
  EXPECT_EQ(Digest::Sha256Of("").ToString(), std::string("sha256:") + kEmptySha256);
  EXPECT_EQ(Digest::Sha256Of("abc").hex(), kAbcSha256);
}

TEST(DigestTest, Sha512Hasher) {
  Hasher hasher("sha512");
  hasher.Update("abc");
  Digest digest = hasher.Current();
  EXPECT_EQ(digest.algorithm(), "sha512");
  EXPECT_EQ(digest.hex(), kAbcSha512);
}

TEST(DigestTest, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) {
    data += static_cast<char>((i * 131) % 251);
  }
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{4096}, data.size()}) {
    Hasher hasher;
    for (size_t at = 0; at < data.size(); at += chunk) {
      std::string_view piece = std::string_view(data).substr(at, chunk);
      hasher.Update(piece.data(), piece.size());
    }
    EXPECT_EQ(hasher.size(), data.size());
    EXPECT_EQ(hasher.Current(), Digest::Sha256Of(data)) << "chunk " << chunk;
  }
}

TEST(DigestTest, CurrentDoesNotEndTheStream) {
  Hasher hasher;
  hasher.Update("a");
  Digest first = hasher.Current();
  EXPECT_EQ(hasher.Current(), first);  // asking twice gives the same answer
  hasher.Update("bc");
  hasher.Update(nullptr, 0);
  EXPECT_EQ(hasher.Current().hex(), kAbcSha256);
  EXPECT_EQ(hasher.size(), 3U);
  EXPECT_EQ(first, Digest::Sha256Of("a"));
}

TEST(DigestTest, MovedHasherKeepsItsState) {
  Hasher hasher;
  hasher.Update("ab");
  Hasher moved = std::move(hasher);
  moved.Update("c");
  EXPECT_EQ(moved.Current().hex(), kAbcSha256);
  Hasher assigned("sha512");
  assigned = std::move(moved);
  EXPECT_EQ(assigned.Current().hex(), kAbcSha256);
}

TEST(DigestTest, ComparesByValue) {
  Digest a = Digest::Sha256Of("a");
  Digest b = Digest::Sha256Of("b");
  EXPECT_EQ(a, Digest::Sha256Of("a"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(a < b || b < a);
  auto parsed = Digest::Parse(a.ToString());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, a);
}

}  // namespace
}  // namespace comet::image
