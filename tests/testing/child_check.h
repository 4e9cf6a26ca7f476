// Checks for test bodies that run in a forked child (RunInChild, in_child.h), where gtest's
// assertions do not reach the parent: a failed check prints where and why to stderr (which
// RunInChild captures into the outcome) and makes the body return 1. Thread-safe.
#ifndef COMET_TESTING_CHILD_CHECK_H_
#define COMET_TESTING_CHILD_CHECK_H_

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace comet::testing {

// Prints a failed check with errno's name (the call that failed usually set it); returns true.
inline bool ChildCheckFailed(const char* file, int line, const char* expression) {
  (void)std::fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n", file, line, expression,
                     ::strerrorname_np(errno));
  return true;
}

}  // namespace comet::testing

// Returns 1 from the child's body unless `cond` holds.
#define CHILD_CHECK(cond)                                                           \
  do {                                                                              \
    if (!(cond) && ::comet::testing::ChildCheckFailed(__FILE__, __LINE__, #cond)) { \
      return 1;                                                                     \
    }                                                                               \
  } while (false)

// Returns 1 from the child's body, printing the error, unless the Status/Result `expr` is ok.
#define CHILD_OK(expr)                                                         \
  do {                                                                         \
    auto&& child_ok_result = (expr);                                           \
    if (!child_ok_result) {                                                    \
      (void)std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, \
                         child_ok_result.error().ToString().c_str());          \
      return 1;                                                                \
    }                                                                          \
  } while (false)

#endif  // COMET_TESTING_CHILD_CHECK_H_
