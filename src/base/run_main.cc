#include "base/run_main.h"

#include <cstdio>
#include <exception>

namespace comet {

int RunMain(const char* program, int (*entry)(int, char**), int argc, char** argv,
            int failure_status) {
  try {
    return entry(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "%s: internal error: unknown exception\n", program);
  }
  return failure_status;
}

}  // namespace comet
