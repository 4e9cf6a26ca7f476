// The one place where comet's Error becomes a gRPC status for the api-service's clients: the
// errno-style code picks the gRPC code, the message is the error's text with its context.
// Thread-safe (no state).
#ifndef COMET_API_STATUS_MAPPING_H_
#define COMET_API_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "base/error.h"

namespace comet::api {

// ENOENT -> NOT_FOUND, EINVAL/ERANGE -> INVALID_ARGUMENT, ENOSYS/EOPNOTSUPP -> UNIMPLEMENTED,
// ECANCELED -> CANCELLED, ETIMEDOUT -> DEADLINE_EXCEEDED, EMFILE/ENFILE/ENOMEM ->
// RESOURCE_EXHAUSTED; anything else (a pod or image file the service could not read) INTERNAL.
[[nodiscard]] grpc::StatusCode ToStatusCode(int error_code);
[[nodiscard]] grpc::Status ToStatus(const Error& error);

}  // namespace comet::api

#endif  // COMET_API_STATUS_MAPPING_H_
