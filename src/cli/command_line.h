// comet-runtime's command line (runc's): argv parsed into one Invocation, without running
// anything, so that every flag quirk engines rely on is unit-testable. The only user of CLI11.
// Not thread-safe (CLI11 keeps state while parsing); call from main().
#ifndef COMET_CLI_COMMAND_LINE_H_
#define COMET_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "base/log.h"
#include "base/result.h"
#include "cli/update_flags.h"
#include "runtime/runtime.h"

namespace comet::cli {

// Everything the command line asked for. Fields that the chosen command does not take keep
// their defaults.
struct Invocation {
  // Canonical name of the command ("list" for `ls`); empty when only help or the version was
  // asked for, or when parsing failed before a command was recognized.
  std::string command;
  // Help or version text to print on stdout (then exit 0) instead of running a command.
  std::string output;

  // Global flags (before the command).
  runtime::GlobalOptions global;
  std::string log_file;  // --log; empty = stderr
  log::Format log_format = log::Format::kText;

  std::string id;  // container id of every per-container command

  runtime::RunOptions run;  // create (run.create) and run; run.create.id == id
  runtime::ExecOptions exec;
  runtime::KillOptions kill;
  bool force = false;                // delete --force
  std::string format = "table";      // list, ps: "table" or "json"
  bool quiet = false;                // list --quiet
  std::vector<std::string> ps_args;  // ps options after the container id
  std::string resources_file;        // update --resources: a path or "-" for stdin
  UpdateFlags update;
  std::string spec_bundle = ".";  // spec --bundle
  bool spec_rootless = false;     // spec --rootless
};

// Parses `args` (args[0] is the program name). On failure returns the error, with the command
// name as context when one was recognized ("create: ..."), and still fills in `invocation` as
// far as it got, so that --log and --log-format can report the failure where engines read it.
[[nodiscard]] Status ParseCommandLine(const std::vector<std::string>& args, Invocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_COMMAND_LINE_H_
