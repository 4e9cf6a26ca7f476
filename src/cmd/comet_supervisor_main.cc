// comet-supervisor: the per-pod supervisor (stage1) that `comet run` execs (pod-design.md).
// The exception catch-all lives here and nowhere else: layers return errors, never throw.
#include <cstdio>
#include <exception>

#include "supervisor/supervisor_main.h"

int main(int argc, char** argv) {
  try {
    return comet::supervisor::SupervisorMain(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "comet-supervisor: internal error: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "comet-supervisor: internal error: unknown exception\n");
  }
  return 254;
}
