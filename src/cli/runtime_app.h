// comet-runtime's entry point: parse the command line, configure logging, run one command and
// report a failure once, where engines look for it. Not thread-safe; call once from main().
#ifndef COMET_CLI_RUNTIME_APP_H_
#define COMET_CLI_RUNTIME_APP_H_

namespace comet::cli {

// Returns the process's exit code: 0, 1 on any error (as runc), or the container process's
// exit code for `run` and `exec` without --detach.
int RuntimeMain(int argc, char** argv);

}  // namespace comet::cli

#endif  // COMET_CLI_RUNTIME_APP_H_
