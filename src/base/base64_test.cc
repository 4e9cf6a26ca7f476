#include "base/base64.h"

#include <string>

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded << ": " << decoded.error().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string data = all.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(data)).value(), data);
  }
  EXPECT_EQ(Base64Decode("+/+/").value(), "\xfb\xff\xbf");
}

TEST(Base64Test, IgnoresLineBreaksAsGoDoes) {
  EXPECT_EQ(Base64Decode("Zm9v\nYmFy\r\n").value(), "foobar");
  EXPECT_EQ(Base64Decode("Zm\n9vYg=\n=\n").value(), "foob");
}

TEST(Base64Test, RejectsWhatIsNotStrictBase64) {
  const std::pair<const char*, const char*> bad[] = {
      {"Zm9", "base64: truncated: 3 characters left over (want a multiple of 4)"},
      {"Zg", "base64: truncated: 2 characters left over (want a multiple of 4)"},
      {"Zg=", "base64: truncated: 3 characters left over (want a multiple of 4)"},
      {"Zm9v*", "base64: byte 4: not a base64 character"},
      {"Zm 9v", "base64: byte 2: not a base64 character"},
      {"Zm9v\t", "base64: byte 4: not a base64 character"},
      {"Zm9-", "base64: byte 3: not a base64 character"},  // the URL alphabet is not this one
      {"=Zm9", "base64: byte 0: misplaced padding"},
      {"Z===", "base64: byte 1: misplaced padding"},
      {"Zg=a", "base64: byte 3: data after padding"},
      {"Zg==Zg==", "base64: byte 4: data after padding"},
      {"Zg===", "base64: byte 4: misplaced padding"},
      {"Zh==", "base64: byte 3: non-zero padding bits"},
      {"Zm9=", "base64: byte 3: non-zero padding bits"},
  };
  for (const auto& [text, message] : bad) {
    auto decoded = Base64Decode(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().message(), message) << text;
  }
}

}  // namespace
}  // namespace comet
