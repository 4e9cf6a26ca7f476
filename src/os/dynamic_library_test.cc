// Tests for DynamicLibrary: resolving a real function, and clear errors for a missing library or
// symbol.
#include "os/dynamic_library.h"

#include <unistd.h>

#include <cerrno>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace comet::os {
namespace {

using ::testing::HasSubstr;

TEST(DynamicLibraryTest, ResolvesAFunction) {
  auto lib = DynamicLibrary::Open("libc.so.6");
  ASSERT_TRUE(lib) << lib.error().ToString();
  EXPECT_EQ(lib->soname(), "libc.so.6");
  decltype(&getpid) get_pid = nullptr;
  ASSERT_TRUE(lib->Resolve("getpid", get_pid));
  ASSERT_NE(get_pid, nullptr);
  EXPECT_EQ(get_pid(), getpid());
}

TEST(DynamicLibraryTest, MissingLibraryIsAnError) {
  auto lib = DynamicLibrary::Open("libcomet-no-such-library.so.1");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), ELIBACC);
  EXPECT_THAT(lib.error().message(), HasSubstr("libcomet-no-such-library.so.1"));
}

TEST(DynamicLibraryTest, MissingSymbolIsAnErrorNamingIt) {
  auto lib = DynamicLibrary::Open("libc.so.6");
  ASSERT_TRUE(lib) << lib.error().ToString();
  decltype(&getpid) function = &getpid;
  Status status = lib->Resolve("comet_no_such_function", function);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), ELIBACC);
  EXPECT_THAT(status.error().message(), HasSubstr("comet_no_such_function"));
}

}  // namespace
}  // namespace comet::os
