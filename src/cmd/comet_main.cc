// comet: the daemonless engine's command line (see docs/comet.md).
// The exception catch-all lives here and nowhere else: layers return errors, never throw.
#include <cstdio>
#include <exception>

#include "cli/comet_app.h"

int main(int argc, char** argv) {
  try {
    return comet::cli::CometMain(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "comet: internal error: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "comet: internal error: unknown exception\n");
  }
  return 254;
}
