// The pod commands' part of comet's command line (rkt's list, status, stop, rm, gc,
// cat-manifest, enter, app ...; podman's logs, exec, attach), used only by
// comet_command_line.cc. stage0's commands (run, prepare, run-prepared, app sandbox, app add)
// only collect their raw arguments here. Not thread-safe; call from main().
#ifndef COMET_CLI_POD_COMMAND_LINE_H_
#define COMET_CLI_POD_COMMAND_LINE_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace, forward-declared
class App;
class Option;
}  // namespace CLI

namespace comet::cli {

// Flag values converted after parsing (durations), and the subcommands whose leftovers are
// arguments.
struct PodCommandParts {
  CLI::App* app = nullptr;  // `comet app`
  std::string wait;
  std::string wait_ready;
  std::string timeout;
  std::string grace_period = "30m";
  std::string expire_prepared = "24h";
  bool tty = false;
  CLI::Option* wait_option = nullptr;
  CLI::Option* wait_ready_option = nullptr;
  std::vector<CLI::Option*> timeout_options;
  std::vector<CLI::Option*> tty_options;
  std::vector<CLI::App*> raw_commands;   // stage0's: everything after the command word
  std::vector<CLI::App*> exec_commands;  // enter, exec, app exec: UUID CMD ARGS... left over
};

// Adds every pod command to `app` (after its formatter is set), binding flags to `in.pod`.
void AddPodCommands(CLI::App& app, CometInvocation& in, PodCommandParts& parts);

// Adds only stage0's top-level command `name` (run, prepare or run-prepared; empty: all three),
// as AddPodCommands would; false when `name` is none of them. `comet run` needs no other
// command, and building them all is most of its command-line work.
bool AddStage0Command(CLI::App& app, std::string_view name, PodCommandParts& parts);

// True for the canonical path of a pod command ("list", "app start", "run", ...).
bool IsPodCommandPath(const std::string& command);

// After a successful parse of pod command `in.command`: converts the raw flag values, collects
// leftover arguments and checks what CLI11 cannot (UUID xor --uuid-file, exec's command).
[[nodiscard]] Status FinishPodCommand(const PodCommandParts& parts, CometInvocation& in);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_COMMAND_LINE_H_
