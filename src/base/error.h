// Error: an errno-style code, a message and a short chain of context, formatted once at the edge.
// Value type; not thread-safe to mutate concurrently (like any std::string).
#ifndef COMET_BASE_ERROR_H_
#define COMET_BASE_ERROR_H_

#include <string>
#include <string_view>
#include <vector>

namespace comet {

class Error {
 public:
  // `code` is an errno value; `message` says what failed. `os_cause` appends strerror(code) when
  // formatted (true for failed system calls, false for rejected input).
  Error(int code, std::string message, bool os_cause = false);

  // An OS failure: `op` names the operation ("mount", "open"), `subject` its object (a path).
  // Reads errno; call right after the failing call.
  static Error FromErrno(std::string_view op, std::string_view subject = {});
  static Error FromCode(int code, std::string_view op, std::string_view subject = {});
  // Input that is not acceptable (EINVAL): a bad field, a malformed file.
  static Error Invalid(std::string message);
  static Error NotFound(std::string message);

  [[nodiscard]] int code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }
  [[nodiscard]] const std::vector<std::string>& context() const { return context_; }

  // Adds an outer layer of context ("creating container x"); returned for chaining.
  Error& AddContext(std::string context) &;
  Error&& AddContext(std::string context) &&;

  // "outer: inner: message: strerror(code)" — the form printed to users.
  [[nodiscard]] std::string ToString() const;

 private:
  int code_;
  std::string message_;
  std::vector<std::string> context_;  // innermost first
  bool os_cause_;
};

}  // namespace comet

#endif  // COMET_BASE_ERROR_H_
