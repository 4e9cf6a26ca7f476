// comet-supervisor: the per-pod supervisor (stage1) that `comet run` execs (pod-design.md).
// The exception catch-all (base/run_main.h) wraps it here: layers return errors, never throw.
#include "base/run_main.h"
#include "supervisor/supervisor_main.h"

int main(int argc, char** argv) {
  return comet::RunMain("comet-supervisor", comet::supervisor::SupervisorMain, argc, argv);
}
