// comet-runtime: an OCI runtime with runc's command line (see docs/comet-runtime.md).
// The exception catch-all (base/run_main.h) wraps it here: layers return errors, never throw.
#include "base/run_main.h"
#include "cli/runtime_app.h"

int main(int argc, char** argv) {
  // OCI runtimes exit 1 on any failure (runc, crun); comet-runtime does too.
  return comet::RunMain("comet-runtime", comet::cli::RuntimeMain, argc, argv, 1);
}
