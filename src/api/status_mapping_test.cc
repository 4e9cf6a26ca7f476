#include "api/status_mapping.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace comet::api {
namespace {

TEST(StatusMapping, NotFoundKeepsTheMessageAndContext) {
  Error error = Error::NotFound("pod 1234 does not exist");
  error.AddContext("InspectPod");
  const grpc::Status status = ToStatus(error);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "InspectPod: pod 1234 does not exist");
}

TEST(StatusMapping, InvalidInputIsInvalidArgument) {
  const grpc::Status status = ToStatus(Error::Invalid("filters[0].ids[0]: malformed uuid"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "filters[0].ids[0]: malformed uuid");
  EXPECT_EQ(ToStatusCode(ERANGE), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(StatusMapping, ReadFailuresAreInternalWithTheOsCause) {
  errno = EACCES;
  const grpc::Status status = ToStatus(Error::FromErrno("open", "/var/lib/comet/pods/run/x/pod"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(status.error_message().find("/var/lib/comet/pods/run/x/pod"), std::string::npos);
  EXPECT_NE(status.error_message().find("Permission denied"), std::string::npos);
  EXPECT_EQ(ToStatusCode(EIO), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(ToStatusCode(0), grpc::StatusCode::INTERNAL);  // an error without a code is a bug
}

TEST(StatusMapping, OtherCodes) {
  EXPECT_EQ(ToStatusCode(ENOSYS), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToStatusCode(EOPNOTSUPP), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToStatusCode(ECANCELED), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ToStatusCode(ETIMEDOUT), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ToStatusCode(EMFILE), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToStatusCode(ENOMEM), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace comet::api
