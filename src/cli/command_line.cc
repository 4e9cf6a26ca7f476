// CLI11 setup of comet-runtime: runc's commands, flags and defaults. The one translation unit
// that includes CLI11 (its header costs seconds per TU). Quirks engines depend on:
// - global flags come before the command (conmon, podman and containerd put them there);
// - `exec` and `ps` stop parsing options at the container id: whatever follows is the command
//   (or ps's options), even when it looks like a flag;
// - `--flag=value` and `--flag value` are both accepted; repeatable flags take one value each.
#include "cli/command_line.h"

#include <memory>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/help_text.h"
#include "cli/signal.h"
#include "cli/user_spec.h"
#include "oci/spec_json.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::cli {
namespace {

// Flag values converted after parsing, so that their errors read like ours, not CLI11's.
struct RawFlags {
  std::string rootless = "auto";
  std::string log_format = "text";
  std::string signal = "SIGTERM";
  std::vector<std::string> additional_gids;
};

std::string VersionText() {
  return fmt::format("comet-runtime version {}\nspec: {}", COMET_VERSION, oci::kOciVersion);
}

CLI::App* AddCommand(CLI::App& app, const std::string& name, const std::string& summary,
                     const std::string& details) {
  CLI::App* command = app.add_subcommand(name, summary);
  command->footer(WrapHelp(details));
  return command;
}

void AddId(CLI::App* command, Invocation& invocation) {
  command->add_option("container-id", invocation.id, "The container's id")->required();
}

// A repeatable option that takes exactly one value per occurrence (`-e A=1 -e B=2`), so that it
// never swallows the positional arguments that follow it.
CLI::Option* AddRepeatable(CLI::App* command, const std::string& name,
                           std::vector<std::string>& values, const std::string& help) {
  return command->add_option(name, values, help)->expected(1)->take_all()->allow_extra_args(false);
}

// An option whose absence matters (update flags leave unset values unchanged).
CLI::Option* AddOptional(CLI::App* command, const std::string& name,
                         std::optional<std::string>& target, const std::string& help) {
  return command->add_option_function<std::string>(
      name, [&target](const std::string& value) { target = value; }, help);
}

void AddGlobalFlags(CLI::App& app, Invocation& invocation, RawFlags& raw) {
  app.add_option("--root", invocation.global.root,
                 "Directory for the containers' state (default /run/comet-runtime, or "
                 "$XDG_RUNTIME_DIR/comet-runtime when rootless)");
  app.add_option("--log", invocation.log_file, "Append log records to this file instead of stderr");
  app.add_option("--log-format", raw.log_format, "Log record format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", invocation.global.debug, "Log debug messages");
  app.add_flag("--systemd-cgroup", invocation.global.systemd_cgroup,
               "Accepted for compatibility; the systemd cgroup driver is not supported and "
               "cgroupfs is used");
  app.add_option("--rootless", raw.rootless,
                 "Whether to run rootless: true, false or auto (rootless unless euid is 0)")
      ->check(CLI::IsMember({"true", "false", "auto"}));
  app.set_version_flag("-v,--version", VersionText(), "Print the version and exit");
}

void AddCreateFlags(CLI::App* command, runtime::CreateOptions& create) {
  command->add_option("-b,--bundle", create.bundle,
                      "Path to the bundle directory, holding config.json (default: .)");
  command->add_option("--console-socket", create.console_socket,
                      "AF_UNIX socket that receives the pseudoterminal's master fd when "
                      "process.terminal is true");
  command->add_option("--pid-file", create.pid_file,
                      "Write the container process's pid to this file");
  command->add_flag("--no-pivot", create.no_pivot,
                    "Do not use pivot_root to enter the root filesystem (for a rootfs on a "
                    "ramdisk); chroot after moving it over /");
  command->add_flag("--no-new-keyring", create.no_new_keyring,
                    "Do not give the container its own session keyring");
  command
      ->add_option("--preserve-fds", create.preserve_fds,
                   "Pass N more file descriptors (3 .. 3+N-1) to the container process")
      ->check(CLI::NonNegativeNumber);
}

void AddCreateAndRun(CLI::App& app, Invocation& invocation) {
  CLI::App* create = AddCommand(
      app, "create", "Create a container from a bundle",
      "Sets up a container from an OCI bundle (a directory with config.json and the root "
      "filesystem it names): namespaces, mounts, cgroup, limits and security settings, up to "
      "the point where its process would run the user's program. The container is then "
      "\"created\"; `start` runs the program. The pid printed by `state` and written to "
      "--pid-file is the container's first process.");
  AddCreateFlags(create, invocation.run.create);
  AddId(create, invocation);

  CLI::App* run = AddCommand(
      app, "run", "Create and start a container",
      "Creates a container from a bundle and starts it at once. Without --detach it waits "
      "for the container's process, exits with its exit code (128+n when killed by signal "
      "n) and deletes the container unless --keep is given. With --detach it returns as soon "
      "as the program runs.");
  AddCreateFlags(run, invocation.run.create);
  run->add_flag("-d,--detach", invocation.run.detach, "Return once the container runs");
  run->add_flag("--keep", invocation.run.keep,
                "Keep the container's state after it exits (delete it yourself)");
  AddId(run, invocation);
}

void AddLifecycleCommands(CLI::App& app, Invocation& invocation, RawFlags& raw) {
  AddId(AddCommand(app, "start", "Run the program of a created container",
                   "Lets a container in the \"created\" state run the program of its "
                   "config.json process. The container becomes \"running\"; start returns at "
                   "once."),
        invocation);
  AddId(AddCommand(app, "state", "Print a container's state as JSON",
                   "Prints the state of a container as JSON: ociVersion, id, pid, status "
                   "(creating, created, running, paused or stopped), bundle, rootfs, created, "
                   "owner and annotations."),
        invocation);

  CLI::App* kill = AddCommand(
      app, "kill", "Send a signal to a container's process",
      "Sends a signal to the container's first process, or with --all to every process in "
      "its cgroup. The signal is a name (KILL, SIGKILL, kill, RTMIN+1) or a number; the "
      "default is SIGTERM.");
  kill->add_flag("-a,--all", invocation.kill.all, "Signal every process of the container");
  AddId(kill, invocation);
  kill->add_option("signal", raw.signal, "The signal (default SIGTERM)");

  CLI::App* del = AddCommand(
      app, "delete", "Delete a stopped container",
      "Deletes a container's state, its cgroup and what create set up. The container must be "
      "stopped (or created) unless --force is given: then its processes are killed first.");
  del->add_flag("-f,--force", invocation.force, "Kill the container first if it still runs");
  AddId(del, invocation);

  AddId(AddCommand(app, "pause", "Freeze every process of a container",
                   "Suspends every process of a running container with the cgroup freezer. "
                   "The container becomes \"paused\" until `resume`."),
        invocation);
  AddId(AddCommand(app, "resume", "Thaw a paused container",
                   "Lets the processes of a paused container run again."),
        invocation);
}

void AddExecCommand(CLI::App& app, Invocation& invocation, RawFlags& raw) {
  runtime::ExecOptions& exec = invocation.exec;
  CLI::App* command =
      AddCommand(app, "exec", "Run a new process in a container",
                 "Runs a new process inside a running container, in its namespaces, cgroup and "
                 "security settings. The process is the command after the container id (everything "
                 "after the id is passed as is, flags included), or a process.json given with "
                 "--process. Without --detach it waits and exits with the process's exit code.\n"
                 "Example: comet-runtime exec mybox sh -c 'ls -l /'");
  // Everything after the first positional (the id) is the command, flags included.
  command->positionals_at_end();
  command->add_option("-p,--process", exec.process_path,
                      "Path to a process.json (an OCI process object) to run");
  command->add_flag("-t,--tty", exec.tty, "Allocate a pseudoterminal");
  AddRepeatable(command, "-e,--env", exec.env, "Set an environment variable (KEY=VALUE)");
  command->add_option("--cwd", exec.cwd, "Working directory in the container");
  command->add_option("-u,--user", exec.user, "User to run as: uid[:gid]");
  AddRepeatable(command, "-g,--additional-gids", raw.additional_gids, "Add a supplementary gid");
  AddRepeatable(command, "-c,--cap", exec.caps, "Add a capability (CAP_NET_ADMIN)");
  command->add_flag("--no-new-privs", exec.no_new_privs, "Set no_new_privs for the process");
  command->add_flag("-d,--detach", exec.detach, "Return once the process runs");
  command->add_option("--pid-file", exec.pid_file, "Write the process's pid to this file");
  command->add_option("--console-socket", exec.console_socket,
                      "AF_UNIX socket that receives the pseudoterminal's master fd (with --tty)");
  command
      ->add_option("--preserve-fds", exec.preserve_fds,
                   "Pass N more file descriptors (3 .. 3+N-1) to the process")
      ->check(CLI::NonNegativeNumber);
  AddId(command, invocation);
  command->add_option("command", exec.args, "The command and its arguments");
}

void AddListCommands(CLI::App& app, Invocation& invocation) {
  CLI::App* list = AddCommand(app, "list", "List containers",
                              "Lists the containers in the state root: a table with the "
                              "columns ID PID STATUS BUNDLE CREATED OWNER, a JSON array "
                              "with --format json, or only their ids with --quiet.");
  list->alias("ls");
  list->add_option("-f,--format", invocation.format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  list->add_flag("-q,--quiet", invocation.quiet, "Print only the ids");

  CLI::App* ps = AddCommand(
      app, "ps", "List a container's processes",
      "Lists the processes of a container. As a table it runs ps(1) with the options given "
      "after the container id (default -ef) and keeps the header and the container's rows; "
      "with --format json it prints the pids as a JSON array.\n"
      "Example: comet-runtime ps mybox -o pid,user,comm");
  ps->positionals_at_end();
  ps->add_option("-f,--format", invocation.format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  AddId(ps, invocation);
  ps->add_option("ps-options", invocation.ps_args, "Options for ps(1) (default -ef)");
}

void AddUpdateCommand(CLI::App& app, Invocation& invocation) {
  UpdateFlags& flags = invocation.update;
  CLI::App* update = AddCommand(
      app, "update", "Change a container's resource limits",
      "Changes the cgroup limits of a running container. --resources reads a JSON "
      "linux.resources object (as in config.json) from a file or from stdin (-); the other "
      "flags set single values and override the file's. Values not given stay as they are. "
      "Sizes take k, m, g units (binary); -1 means unlimited.");
  update->add_option("-r,--resources", invocation.resources_file,
                     "JSON file with the resources to set, - for stdin");
  AddOptional(update, "--memory", flags.memory, "Memory limit (bytes, 512m, 1g, -1)");
  AddOptional(update, "--memory-reservation", flags.memory_reservation, "Memory soft limit");
  AddOptional(update, "--memory-swap", flags.memory_swap, "Memory plus swap limit");
  AddOptional(update, "--cpu-shares", flags.cpu_shares, "CPU shares (relative weight)");
  AddOptional(update, "--cpu-quota", flags.cpu_quota, "CPU time per period (microseconds)");
  AddOptional(update, "--cpu-period", flags.cpu_period, "CFS period (microseconds)");
  AddOptional(update, "--cpuset-cpus", flags.cpuset_cpus, "CPUs allowed (0-3,5)");
  AddOptional(update, "--cpuset-mems", flags.cpuset_mems, "Memory nodes allowed (0,1)");
  AddOptional(update, "--pids-limit", flags.pids_limit, "Maximum number of processes");
  AddOptional(update, "--blkio-weight", flags.blkio_weight, "Block IO weight (10-1000)");
  AddId(update, invocation);
}

void AddSpecCommands(CLI::App& app, Invocation& invocation) {
  CLI::App* spec = AddCommand(
      app, "spec", "Write a starter config.json",
      "Writes a default config.json into the bundle directory: a shell (sh) in ./rootfs "
      "with a terminal, the usual namespaces, mounts and a minimal set of capabilities. "
      "With --rootless the spec also maps the caller's uid and gid in a user namespace. An "
      "existing config.json is never overwritten.");
  spec->add_option("-b,--bundle", invocation.spec_bundle, "Bundle directory (default: .)");
  spec->add_flag("--rootless", invocation.spec_rootless, "Write a spec for rootless containers");

  AddCommand(app, "features", "Print the features this runtime supports",
             "Prints a JSON document of the OCI runtime features this runtime implements "
             "(runtime-spec features.md): namespaces, capabilities, mount options, cgroup, "
             "seccomp and more, so that engines can tell what they may ask for.");
}

// Converts the flag values CLI11 left as text.
Status FinishInvocation(const RawFlags& raw, Invocation& invocation) {
  if (raw.rootless != "auto") {
    invocation.global.rootless = raw.rootless == "true";
  }
  invocation.run.create.id = invocation.id;
  invocation.exec.id = invocation.id;
  invocation.kill.id = invocation.id;
  if (invocation.command == "kill") {
    ASSIGN_OR_RETURN(invocation.kill.signal, ParseSignal(raw.signal));
  }
  if (invocation.command == "exec") {
    std::vector<std::string>& args = invocation.exec.args;
    if (!args.empty() && args.front() == "--") {
      args.erase(args.begin());
    }
    if (invocation.exec.process_path.empty() && args.empty()) {
      return Err(Error::Invalid("no command given: pass one after the id, or --process"));
    }
    if (!invocation.exec.process_path.empty() && !args.empty()) {
      return Err(Error::Invalid("--process and a command exclude each other"));
    }
    if (!invocation.exec.user.empty()) {
      RETURN_IF_ERROR(ParseUser(invocation.exec.user));
    }
    ASSIGN_OR_RETURN(invocation.exec.additional_gids, ParseGids(raw.additional_gids));
  }
  if (invocation.command == "update" && invocation.resources_file.empty() &&
      invocation.update.Empty()) {
    return Err(Error::Invalid("nothing to update: give --resources or a limit flag"));
  }
  return Ok();
}

// The global flags parsed so far, even when parsing failed later (CLI11 only stores bound
// values once the whole line parsed).
void RecoverLogFlags(CLI::App& app, Invocation& invocation) {
  const CLI::Option* log = app.get_option("--log");
  if (log->count() > 0) {
    invocation.log_file = log->results().back();
  }
  const CLI::Option* format = app.get_option("--log-format");
  if (format->count() > 0 && format->results().back() == "json") {
    invocation.log_format = log::Format::kJson;
  }
}

// CLI11's message, in our style (lowercase), or "unknown command" when the first word left
// over is not a command.
std::string ParseErrorMessage(const CLI::ParseError& e, CLI::App& app, const std::string& command) {
  if (command.empty() && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    std::vector<std::string> extras = app.remaining();
    if (!extras.empty() && !extras.front().empty() && extras.front().front() != '-') {
      return fmt::format("unknown command \"{}\" (see comet-runtime --help)", extras.front());
    }
  }
  std::string message = e.what();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z') {
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  }
  return message;
}

}  // namespace

Status ParseCommandLine(const std::vector<std::string>& args, Invocation& invocation) {
  CLI::App app(
      "An OCI runtime with runc's command line: it creates and runs containers from "
      "OCI bundles for engines such as podman, conmon and containerd.",
      "comet-runtime");
  app.require_subcommand(0, 1);
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->column_width(34);
  app.formatter(formatter);  // before the subcommands: they copy it
  RawFlags raw;
  AddGlobalFlags(app, invocation, raw);
  AddCreateAndRun(app, invocation);
  AddLifecycleCommands(app, invocation, raw);
  AddExecCommand(app, invocation, raw);
  AddListCommands(app, invocation);
  AddUpdateCommand(app, invocation);
  AddSpecCommands(app, invocation);

  // CLI11 wants argv without the program name, reversed.
  std::vector<std::string> rest(args.rbegin(), args.rend());
  if (!rest.empty()) {
    rest.pop_back();
  }
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    std::vector<CLI::App*> chosen = app.get_subcommands();
    invocation.command = chosen.empty() ? "" : chosen.front()->get_name();
    std::ostringstream out;
    std::ostringstream err;
    if (app.exit(e, out, err) == 0) {  // --help or --version
      invocation.output = out.str();
      invocation.command.clear();
      return Ok();
    }
    RecoverLogFlags(app, invocation);
    Error error = Error::Invalid(ParseErrorMessage(e, app, invocation.command));
    if (!invocation.command.empty()) {
      error.AddContext(invocation.command);
    }
    return Err(std::move(error));
  }
  std::vector<CLI::App*> chosen = app.get_subcommands();
  if (chosen.empty()) {
    invocation.output = app.help();
    return Ok();
  }
  invocation.command = chosen.front()->get_name();
  invocation.log_format = raw.log_format == "json" ? log::Format::kJson : log::Format::kText;
  Status finished = FinishInvocation(raw, invocation);
  if (!finished) {
    return Err(std::move(finished).error().AddContext(invocation.command));
  }
  return Ok();
}

}  // namespace comet::cli
