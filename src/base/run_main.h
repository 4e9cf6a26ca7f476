// RunMain: the catch-all around every comet binary's entry point. Layers return errors
// (base/result.h) rather than throw, so an exception that reaches main() is a bug in comet or a
// library it calls (std::bad_alloc, a yaml-cpp or gRPC throw missed): it is reported as an
// internal error, named by the program, with the program's failure status — never as an abort
// with a core file. Called once, from main().
#ifndef COMET_BASE_RUN_MAIN_H_
#define COMET_BASE_RUN_MAIN_H_

namespace comet {

// rkt's exit status on error, which comet's commands share (the OCI runtime exits 1 instead).
inline constexpr int kInternalErrorStatus = 254;

// entry(argc, argv), or `failure_status` after writing "<program>: internal error: <what>" to
// stderr when it throws.
int RunMain(const char* program, int (*entry)(int, char**), int argc, char** argv,
            int failure_status = kInternalErrorStatus);

}  // namespace comet

#endif  // COMET_BASE_RUN_MAIN_H_
