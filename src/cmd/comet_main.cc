// comet: the daemonless engine's command line (see docs/comet.md).
// The exception catch-all (base/run_main.h) wraps it here: layers return errors, never throw.
#include "base/run_main.h"
#include "cli/comet_app.h"

int main(int argc, char** argv) {
  return comet::RunMain("comet", comet::cli::CometMain, argc, argv);
}
