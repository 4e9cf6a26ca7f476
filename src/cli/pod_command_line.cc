// CLI11 setup of comet's pod commands: rkt's names and flags (list, status, stop, rm, gc,
// cat-manifest, enter, app ...), podman's where rkt had none (logs, exec, attach). stage0's
// commands are prefix commands: their arguments pass through untouched.
#include "cli/pod_command_line.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/duration.h"
#include "base/strings.h"
#include "cli/help_text.h"

namespace comet::cli {
namespace {

CLI::App* AddPodCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                        const std::string& details) {
  CLI::App* command = parent.add_subcommand(name, summary);
  command->footer(WrapHelp(details));
  return command;
}

constexpr const char* kUuidHelp = "Pod UUID, or a unique prefix of at least 4 characters";
constexpr const char* kStage0Details =
    "Run `comet {} --help` for the flags; arguments are parsed by the pod's stage0.";

// A pod UUID positional: exactly one unless `many`.
void AddUuid(CLI::App* command, CometInvocation& in, bool many) {
  CLI::Option* uuid = command->add_option("uuid", in.pod.uuids, many ? "Pods" : kUuidHelp);
  if (!many) {
    uuid->expected(1);
  }
}

void AddUuidFile(CLI::App* command, CometInvocation& in) {
  command->add_option("--uuid-file", in.pod.uuid_file,
                      "Read the pod UUID from this file (what --uuid-file-save wrote)");
}

// Which pods a command takes: one UUID, one by UUID or --uuid-file, or many (or --uuid-file).
enum class Pods { kOne, kOneOrFile, kMany };

// A pod command whose positionals are pod UUIDs.
CLI::App* AddUuidCommand(CLI::App& parent, CometInvocation& in, Pods pods, const std::string& name,
                         const std::string& summary, const std::string& details) {
  CLI::App* command = AddPodCommand(parent, name, summary, details);
  AddUuid(command, in, pods == Pods::kMany);
  if (pods != Pods::kOne) {
    AddUuidFile(command, in);
  }
  return command;
}

void AddFormat(CLI::App* command, CometInvocation& in, const std::string& table_name) {
  command
      ->add_option("--format", in.pod.format,
                   "Output format: " + table_name + ", json or json-pretty")
      ->check(CLI::IsMember({"table", "json", "json-pretty"}));
}

// stage0's commands: no flags of ours, everything after the command word goes to stage0 (which
// prints its own help for --help).
CLI::App* AddRawCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                        const std::string& path, PodCommandParts& parts) {
  CLI::App* command = AddPodCommand(parent, name, summary, fmt::format(kStage0Details, path));
  command->set_help_flag();
  command->prefix_command();
  command->allow_extras();
  parts.raw_commands.push_back(command);
  return command;
}

void AddQueries(CLI::App& app, CometInvocation& in, PodCommandParts& parts) {
  CLI::App* list = AddPodCommand(
      app, "list", "List pods",
      "One row per app (rkt's columns): UUID (8 characters unless --full), APP, IMAGE NAME, "
      "IMAGE ID, STATE, CREATED, STARTED, NETWORKS. Takes no lock: states are a snapshot.");
  list->alias("ls");
  AddFormat(list, in, "table");
  list->add_flag("--no-legend", in.pod.no_legend, "No header line");
  list->add_flag("--full", in.pod.full, "Whole UUIDs and image IDs");

  CLI::App* status = AddUuidCommand(
      app, in, Pods::kOneOrFile, "status", "Show a pod's state",
      "Prints key=value lines: state, created, started, pid (the supervisor's), exited, and "
      "app-<name>=<exit code> for each app that exited. --wait waits for the pod to exit, "
      "--wait-ready for all its apps to have started (e.g. --wait=30s; without a value: "
      "forever); a timeout is an error (exit 254).");
  AddFormat(status, in, "table (key=value)");
  parts.wait_option = status->add_flag("--wait{forever}", parts.wait,
                                       "Wait for the pod to exit, at most DUR (--wait=DUR)");
  parts.wait_ready_option = status->add_flag(
      "--wait-ready{forever}", parts.wait_ready,
      "Wait until every app started, at most DUR (--wait-ready=DUR); an error if the pod exits");

  CLI::App* cat =
      AddUuidCommand(app, in, Pods::kOneOrFile, "cat-manifest", "Print a pod's manifest",
                     "Prints the pod manifest (JSON) as stage0 wrote it.");
  cat->add_flag("--pretty-print", in.pod.pretty, "Indent the JSON");

  CLI::App* logs = AddUuidCommand(
      app, in, Pods::kOne, "logs", "Print the output of a pod's apps",
      "Without --app, the logs of every app, each line prefixed \"<app>: \" when there are "
      "several (ordered by time unless following). --since takes a duration back from now "
      "(10m) or an RFC 3339 time. --follow keeps printing until the pod has exited.");
  logs->add_option("--app", in.pod.app, "Only this app");
  logs->add_flag("-f,--follow", in.pod.follow, "Keep printing new output while the pod runs");
  logs->add_option("--tail", in.pod.tail, "Only the last N lines (of each app)")
      ->check(CLI::NonNegativeNumber);
  logs->add_option("--since", in.pod.since, "Only lines since DURATION ago or an RFC 3339 time");
  logs->add_flag("--timestamps", in.pod.timestamps, "Prefix each line with its time");
}

void AddChanges(CLI::App& app, CometInvocation& in, PodCommandParts& parts) {
  CLI::App* stop = AddUuidCommand(
      app, in, Pods::kMany, "stop", "Stop running pods",
      "Asks each pod's supervisor to stop its apps (SIGTERM, then SIGKILL after the grace "
      "period: the pod's --stop-timeout unless --timeout; none with --force), falls back to "
      "SIGTERM to the supervisor, and waits until the pod exited. Prints each stopped UUID.");
  stop->add_flag("--force", in.pod.force, "Kill the apps at once (no grace period)");
  parts.timeout_options.push_back(
      stop->add_option("--timeout", parts.timeout,
                       "Grace period before SIGKILL (e.g. 5s; plain numbers are seconds)"));

  AddUuidCommand(
      app, in, Pods::kMany, "rm", "Remove pods",
      "Removes prepared, exited or aborted pods: what is left on the host (processes, "
      "cgroups, mounts, snapshots, the image lease) and the pod directory. A running pod is "
      "an error: stop it first.");

  CLI::App* gc = AddPodCommand(
      app, "gc", "Remove exited and abandoned pods",
      "Marks exited pods, crashed prepares and prepared pods older than --expire-prepared "
      "as garbage, then removes garbage older than --grace-period (rkt's gc).");
  gc->add_option("--grace-period", parts.grace_period,
                 "Keep exited pods this long after they were marked (default 30m)");
  gc->add_option("--expire-prepared", parts.expire_prepared,
                 "Prepared pods older than this are garbage (default 24h)");
  gc->add_flag("--mark-only", in.pod.mark_only, "Only mark; remove nothing");
}

void AddExecFlags(CLI::App* command, CometInvocation& in, PodCommandParts& parts) {
  command->add_option("--app", in.pod.app, "App to run in (optional when the pod has one)");
  command->add_flag("-i,--interactive", in.pod.interactive, "Pass stdin to the process");
  parts.tty_options.push_back(
      command->add_flag("-t,--tty", parts.tty, "Run the process on a pseudo-terminal"));
  command->add_option("-e,--env", in.pod.env, "Set KEY=VALUE in its environment")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false);
  command->add_option("-u,--user", in.pod.user, "User (uid[:gid] or name; default: the app's)");
  command->add_option("-w,--workdir", in.pod.workdir, "Working directory (default: the app's)");
  command->prefix_command();
  parts.exec_commands.push_back(command);
}

void AddProcessCommands(CLI::App& app, CometInvocation& in, PodCommandParts& parts) {
  CLI::App* enter = AddPodCommand(
      app, "enter", "Run a command in a pod's app (default /bin/sh)",
      "comet enter [--app=NAME] UUID [CMD [ARGS...]]. A pseudo-terminal is used when stdin is "
      "a terminal. The command's exit code becomes comet's.");
  enter->add_option("--app", in.pod.app, "App to enter (optional when the pod has one)");
  enter->prefix_command();
  parts.exec_commands.push_back(enter);

  const std::string exec_details =
      "comet exec [flags] UUID CMD [ARGS...]; flags come before the UUID. The command runs "
      "in the app's namespaces, cgroup, root and environment; its exit code becomes comet's.";
  AddExecFlags(AddPodCommand(app, "exec", "Run a command in a running app", exec_details), in,
               parts);

  CLI::App* attach = AddUuidCommand(
      app, in, Pods::kOne, "attach", "Attach to an app's output and input",
      "Copies the app's output here and, unless --no-stdin, this terminal's input to the app "
      "(when it was started with -i). Type the detach keys to leave the app running; when the "
      "app exits, its exit code becomes comet's.");
  attach->add_option("--app", in.pod.app, "App (optional when the pod has one)");
  attach->add_flag("--no-stdin", in.pod.no_stdin, "Do not forward stdin");
  attach->add_option("--detach-keys", in.pod.detach_keys,
                     "Key sequence to detach (default ctrl-p,ctrl-q; empty: none)");
}

void AddAppCommands(CLI::App& app, CometInvocation& in, PodCommandParts& parts) {
  CLI::App* apps = AddPodCommand(app, "app", "Manage the apps of a pod",
                                 "A mutable pod (`app sandbox`) gets apps with `app add`; the "
                                 "apps of any running pod can be started, stopped and removed.");
  apps->require_subcommand(0, 1);
  parts.app = apps;
  AddRawCommand(*apps, "sandbox", "Start an empty mutable pod (prints its UUID)", "app sandbox",
                parts);
  AddRawCommand(*apps, "add", "Add an app to a mutable pod", "app add", parts);
  for (const char* name : {"start", "stop", "rm"}) {
    const std::string verb(name);
    CLI::App* command =
        AddUuidCommand(*apps, in, Pods::kOne, verb,
                       verb == "start"  ? "Start an app of a running pod"
                       : verb == "stop" ? "Stop an app of a running pod"
                                        : "Remove an app from a running mutable pod",
                       "comet app " + verb + " UUID --app=NAME; done by the pod's supervisor.");
    command->add_option("--app", in.pod.app, "The app")->required();
    if (verb == "stop") {
      command->add_flag("--force", in.pod.force, "Kill the app at once (no grace period)");
      parts.timeout_options.push_back(command->add_option(
          "--timeout", parts.timeout, "Grace period before SIGKILL (plain numbers are seconds)"));
    }
  }
  CLI::App* list = AddPodCommand(*apps, "list", "List a pod's apps",
                                 "Columns: NAME, STATE, IMAGE NAME, IMAGE ID, CREATED, STARTED, "
                                 "EXIT CODE (from the pod's status files).");
  list->alias("ls");
  AddUuid(list, in, false);
  AddFormat(list, in, "table");
  list->add_flag("--no-legend", in.pod.no_legend, "No header line");
  CLI::App* status = AddUuidCommand(*apps, in, Pods::kOne, "status", "Show an app's state",
                                    "key=value lines (or JSON): name, state, pid, created, "
                                    "started, finished, exit_code, restarts, reason.");
  status->add_option("--app", in.pod.app, "The app")->required();
  AddFormat(status, in, "table (key=value)");
  AddExecFlags(AddPodCommand(*apps, "exec", "Run a command in a running app (= comet exec)",
                             "comet app exec [flags] UUID CMD [ARGS...]"),
               in, parts);
}

Result<std::chrono::nanoseconds> ParseWait(const std::string& text) {
  if (text == "forever") {
    return PodFlags::kForever;
  }
  return ParseDuration(text);
}

// Plain numbers are seconds (podman's stop -t), else a Go duration.
Result<std::chrono::nanoseconds> ParseTimeout(const std::string& text) {
  if (std::optional<long long> seconds = ParseInt(text); seconds && *seconds >= 0) {
    return std::chrono::seconds(*seconds);
  }
  return ParseDuration(text);
}

bool AnyCount(const std::vector<CLI::Option*>& options) {
  return std::any_of(options.begin(), options.end(),
                     [](const CLI::Option* option) { return option->count() > 0; });
}

// Stores a parsed duration, or returns its error with the flag as context.
template <typename Target>
Status Assign(Result<std::chrono::nanoseconds> parsed, const char* flag, Target& target) {
  if (!parsed) {
    return Err(std::move(parsed).error().AddContext(flag));
  }
  target = *parsed;
  return Ok();
}

Status ConvertDurations(const PodCommandParts& parts, CometInvocation& in) {
  PodFlags& pod = in.pod;
  if (parts.wait_option != nullptr && parts.wait_option->count() > 0) {
    RETURN_IF_ERROR(Assign(ParseWait(parts.wait), "--wait", pod.wait));
  }
  if (parts.wait_ready_option != nullptr && parts.wait_ready_option->count() > 0) {
    RETURN_IF_ERROR(Assign(ParseWait(parts.wait_ready), "--wait-ready", pod.wait_ready));
  }
  if (AnyCount(parts.timeout_options)) {
    RETURN_IF_ERROR(Assign(ParseTimeout(parts.timeout), "--timeout", pod.timeout));
  }
  if (in.command == "gc") {
    RETURN_IF_ERROR(Assign(ParseDuration(parts.grace_period), "--grace-period", pod.grace_period));
    RETURN_IF_ERROR(
        Assign(ParseDuration(parts.expire_prepared), "--expire-prepared", pod.expire_prepared));
  }
  if (AnyCount(parts.tty_options)) {
    pod.tty = parts.tty;
  }
  return Ok();
}

// enter, exec, app exec: the leftovers are UUID [--] CMD ARGS....
Status SplitExecArguments(std::vector<std::string> rest, CometInvocation& in) {
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  }
  if (rest.empty()) {
    return Err(Error::Invalid("missing pod UUID"));
  }
  if (StartsWith(rest.front(), "-")) {
    return Err(Error::Invalid(
        fmt::format("unknown flag {:?} (flags come before the UUID)", rest.front())));
  }
  in.pod.uuids = {rest.front()};
  rest.erase(rest.begin());
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  }
  in.pod.command = std::move(rest);
  if (in.pod.command.empty() && in.command != "enter") {
    return Err(
        Error::Invalid("missing the command to run (comet " + in.command + " UUID CMD [ARGS...])"));
  }
  return Ok();
}

Status CheckUuids(const CometInvocation& in) {
  static const std::set<std::string, std::less<>> kNoUuid = {"list", "gc"};
  static const std::set<std::string, std::less<>> kMany = {"stop", "rm"};
  if (kNoUuid.contains(in.command)) {
    return Ok();
  }
  const size_t given = in.pod.uuids.size() + (in.pod.uuid_file.empty() ? 0 : 1);
  if (given == 0) {
    return Err(Error::Invalid("missing pod UUID"));
  }
  if (given > 1 && !kMany.contains(in.command)) {
    return Err(Error::Invalid("give one pod: a UUID or --uuid-file"));
  }
  return Ok();
}

}  // namespace

bool AddStage0Command(CLI::App& app, std::string_view name, PodCommandParts& parts) {
  static constexpr std::pair<std::string_view, std::string_view> kStage0Commands[] = {
      {"run", "Run a pod (stage0)"},
      {"prepare", "Prepare a pod to run later (prints its UUID)"},
      {"run-prepared", "Run a prepared pod"}};
  for (const auto& [command, summary] : kStage0Commands) {
    if (name.empty() || name == command) {
      AddRawCommand(app, std::string(command), std::string(summary), std::string(command), parts);
      if (!name.empty()) {
        return true;
      }
    }
  }
  return false;
}

void AddPodCommands(CLI::App& app, CometInvocation& in, PodCommandParts& parts) {
  (void)AddStage0Command(app, "", parts);
  AddQueries(app, in, parts);
  AddChanges(app, in, parts);
  AddProcessCommands(app, in, parts);
  AddAppCommands(app, in, parts);
}

bool IsPodCommandPath(const std::string& command) {
  static const std::set<std::string, std::less<>> kCommands = {
      "run",     "prepare",      "run-prepared", "list",   "status",   "stop",       "rm",
      "gc",      "cat-manifest", "logs",         "enter",  "exec",     "attach",     "app sandbox",
      "app add", "app start",    "app stop",     "app rm", "app list", "app status", "app exec"};
  return kCommands.contains(command);
}

Status FinishPodCommand(const PodCommandParts& parts, CometInvocation& in) {
  auto finish = [&]() -> Status {
    for (CLI::App* command : parts.raw_commands) {
      if (command->parsed()) {
        in.pod.args = command->remaining();
        return Ok();
      }
    }
    RETURN_IF_ERROR(ConvertDurations(parts, in));
    for (CLI::App* command : parts.exec_commands) {
      if (command->parsed()) {
        return SplitExecArguments(command->remaining(), in);
      }
    }
    return CheckUuids(in);
  };
  Status status = finish();
  if (!status) {
    return Err(std::move(status).error().AddContext(in.command));
  }
  return Ok();
}

}  // namespace comet::cli
