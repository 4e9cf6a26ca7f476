// Error -> grpc::Status.
#include "api/status_mapping.h"

#include <cerrno>

namespace comet::api {

grpc::StatusCode ToStatusCode(int error_code) {
  switch (error_code) {
    case ENOENT:
      return grpc::StatusCode::NOT_FOUND;
    case EINVAL:
    case ERANGE:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ENOSYS:
    case EOPNOTSUPP:
      return grpc::StatusCode::UNIMPLEMENTED;
    case ECANCELED:
      return grpc::StatusCode::CANCELLED;
    case ETIMEDOUT:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status ToStatus(const Error& error) {
  return {ToStatusCode(error.code()), error.ToString()};
}

}  // namespace comet::api
