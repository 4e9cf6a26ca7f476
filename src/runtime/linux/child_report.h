// What the container's setup processes tell the runtime when a step fails: a stage name, an
// errno and a short detail (a path), in a fixed-size struct so that it can be filled and sent
// between clone and exec without allocating. Plain data; thread-safe to copy.
#ifndef COMET_RUNTIME_LINUX_CHILD_REPORT_H_
#define COMET_RUNTIME_LINUX_CHILD_REPORT_H_

#include <cstddef>
#include <cstring>

namespace comet::runtime {

struct ChildReport {
  int err = 0;             // errno of the failed step, 0 = success
  char stage[64] = {};     // "mount", "pivot_root", "setns" ...
  char detail[4096] = {};  // a path or field, NUL-terminated, truncated when longer

  // Async-signal-safe setters (bounded copies, no allocation).
  void Set(int error, const char* stage_name, const char* detail_text) noexcept {
    err = error;
    CopyBounded(stage, sizeof(stage), stage_name);
    CopyBounded(detail, sizeof(detail), detail_text);
  }

 private:
  static void CopyBounded(char* dst, size_t size, const char* src) noexcept {
    size_t i = 0;
    if (src != nullptr) {
      for (; i + 1 < size && src[i] != '\0'; ++i) {
        dst[i] = src[i];
      }
    }
    dst[i] = '\0';
  }
};

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_CHILD_REPORT_H_
