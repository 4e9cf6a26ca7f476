// comet-runtime: an OCI runtime with runc's command line (see docs/comet-runtime.md).
// The exception catch-all lives here and nowhere else: layers return errors, never throw.
#include <cstdio>
#include <exception>

#include "cli/runtime_app.h"

int main(int argc, char** argv) {
  try {
    return comet::cli::RuntimeMain(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "comet-runtime: internal error: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "comet-runtime: internal error: unknown exception\n");
  }
  return 1;
}
