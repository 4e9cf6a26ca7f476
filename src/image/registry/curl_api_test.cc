// Tests for the lazily loaded libcurl table: every member is the linked function of its name,
// curl works through it, and a missing library or symbol is a clear error.
#include "image/registry/curl_api.h"

#include <cerrno>
#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::image::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The table as the linker binds it (this test links libcurl), member by member.
CurlApi Linked() {
  return CurlApi{
      .global_init = &curl_global_init,
      .easy_init = &curl_easy_init,
      .easy_cleanup = &curl_easy_cleanup,
      .easy_setopt = &curl_easy_setopt,
      .easy_getinfo = &curl_easy_getinfo,
      .easy_perform = &curl_easy_perform,
      .easy_strerror = &curl_easy_strerror,
      .slist_append = &curl_slist_append,
      .slist_free_all = &curl_slist_free_all,
      .share_init = &curl_share_init,
      .share_setopt = &curl_share_setopt,
      .share_cleanup = &curl_share_cleanup,
      .url = &curl_url,
      .url_cleanup = &curl_url_cleanup,
      .url_set = &curl_url_set,
      .url_get = &curl_url_get,
      .free = &curl_free,
  };
}

TEST(CurlApiTest, ResolvesEveryFunctionToItsNamesake) {
  auto api = LoadCurlApi(kCurlSoname);
  ASSERT_TRUE(api) << api.error().ToString();
  EXPECT_TRUE(*api == Linked());
}

TEST(CurlApiTest, LoadsOnceAndWorks) {
  auto first = LibCurl();
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = LibCurl();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(*first, *second);
  const CurlApi& curl = **first;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl.url(), curl.url_cleanup);
  ASSERT_TRUE(u);
  ASSERT_EQ(curl.url_set(u.get(), CURLUPART_URL, "https://127.0.0.1:5000/v2/", 0), CURLUE_OK);
  char* port = nullptr;
  ASSERT_EQ(curl.url_get(u.get(), CURLUPART_PORT, &port, 0), CURLUE_OK);
  EXPECT_STREQ(port, "5000");
  curl.free(port);
}

TEST(CurlApiTest, MissingLibraryIsAClearError) {
  auto api = LoadCurlApi("libcomet-no-such-curl.so.4");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code(), ELIBACC);
  EXPECT_THAT(api.error().message(), StartsWith("image pulls need libcomet-no-such-curl.so.4: "));
  EXPECT_THAT(api.error().message(), HasSubstr("cannot open shared object file"));
}

TEST(CurlApiTest, LibraryWithoutTheFunctionsIsAClearError) {
  auto api = LoadCurlApi("libc.so.6");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code(), ELIBACC);
  EXPECT_THAT(api.error().message(), HasSubstr("curl_global_init"));
}

}  // namespace
}  // namespace comet::image::registry
