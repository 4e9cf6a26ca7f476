// Error construction and formatting.
#include "base/error.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace comet {

Error::Error(int code, std::string message, bool os_cause)
    : code_(code), message_(std::move(message)), os_cause_(os_cause) {}

Error Error::FromErrno(std::string_view op, std::string_view subject) {
  return FromCode(errno, op, subject);
}

Error Error::FromCode(int code, std::string_view op, std::string_view subject) {
  std::string message(op);
  if (!subject.empty()) {
    message += ' ';
    message += subject;
  }
  return {code, std::move(message), true};
}

Error Error::Invalid(std::string message) {
  return {EINVAL, std::move(message)};
}

Error Error::NotFound(std::string message) {
  return {ENOENT, std::move(message)};
}

Error& Error::AddContext(std::string context) & {
  context_.push_back(std::move(context));
  return *this;
}

Error&& Error::AddContext(std::string context) && {
  context_.push_back(std::move(context));
  return std::move(*this);
}

std::string Error::ToString() const {
  std::string out;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message_;
  if (os_cause_ && code_ != 0) {
    char buf[128];
    out += ": ";
    out += strerror_r(code_, buf, sizeof(buf));
  }
  return out;
}

}  // namespace comet
