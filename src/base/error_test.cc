#include "base/error.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "base/result.h"

namespace comet {
namespace {

Status FailWithContext() {
  errno = EACCES;
  Error err = Error::FromErrno("mount", "/proc");
  return Err(std::move(err).AddContext("preparing rootfs"));
}

Result<int> Doubled(Result<int> in) {
  ASSIGN_OR_RETURN(int v, std::move(in));
  return v * 2;
}

Status Chain() {
  RETURN_IF_ERROR(FailWithContext());
  return Ok();
}

TEST(ErrorTest, FormatsContextMessageAndStrerror) {
  auto st = Chain();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), EACCES);
  EXPECT_EQ(st.error().ToString(), "preparing rootfs: mount /proc: Permission denied");
}

TEST(ErrorTest, InvalidInputHasNoStrerror) {
  Error e = Error::Invalid("linux.namespaces[1].type: unknown namespace type \"foo\"");
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_EQ(e.ToString(), "linux.namespaces[1].type: unknown namespace type \"foo\"");
}

TEST(ErrorTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Doubled(21), 42);
  auto r = Doubled(Err(Error::NotFound("x")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
}

}  // namespace
}  // namespace comet
