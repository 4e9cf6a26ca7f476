// Result<T>: a value or an Error. One alias, so that moving to std::expected is a one-line change.
// Use only the subset std::expected also has: and_then, or_else, transform, value_or, error().
#ifndef COMET_BASE_RESULT_H_
#define COMET_BASE_RESULT_H_

#include <utility>

#include <tl/expected.hpp>

#include "base/error.h"

namespace comet {

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

// `return Err(Error::Invalid("..."));`
inline tl::unexpected<Error> Err(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

inline Status Ok() {
  return {};
}

}  // namespace comet

#define COMET_CONCAT_INNER_(a, b) a##b
#define COMET_CONCAT_(a, b) COMET_CONCAT_INNER_(a, b)

// Returns the error of a Result/Status expression from the enclosing function.
#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    auto comet_status_ = (expr);                             \
    if (!comet_status_) {                                    \
      return ::comet::Err(std::move(comet_status_).error()); \
    }                                                        \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from a Result or returns its error.
// NOLINTBEGIN(bugprone-macro-parentheses): `decl` is a declaration and `tmp` a name.
#define ASSIGN_OR_RETURN(decl, expr) \
  COMET_ASSIGN_OR_RETURN_IMPL_(COMET_CONCAT_(comet_result_, __LINE__), decl, expr)
#define COMET_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp) {                                         \
    return ::comet::Err(std::move(tmp).error());      \
  }                                                   \
  decl = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)

// Like RETURN_IF_ERROR, adding context to the error on its way out.
#define RETURN_IF_ERROR_CTX(expr, ctx)                                       \
  do {                                                                       \
    auto comet_status_ = (expr);                                             \
    if (!comet_status_) {                                                    \
      return ::comet::Err(std::move(comet_status_).error().AddContext(ctx)); \
    }                                                                        \
  } while (false)

#endif  // COMET_BASE_RESULT_H_
