// Dispatch of comet's commands and the one place where errors become text and exit codes.
#include "cli/comet_app.h"

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "cli/comet_command_line.h"
#include "cli/data_dir.h"
#include "cli/image_commands.h"
#include "cli/kube_play.h"
#include "cli/pod_commands.h"
#include "cli/pod_launch.h"
#include "cli/pod_run.h"
#include "cli/rootless_userns.h"
#include "os/file.h"

namespace comet::cli {
namespace {

// rkt's exit status for a failed command; scripts written for rkt test for it.
constexpr int kExitError = 254;

int Report(const Error& error, const std::string& command, bool debug) {
  // Error::ToString already carries the whole context chain; --debug adds the errno name.
  std::string text = error.ToString();
  if (debug && error.code() != 0) {
    text += fmt::format(" (errno {})", error.code());
  }
  std::string line = command.empty() ? fmt::format("comet: {}\n", text)
                                     : fmt::format("comet: {}: {}\n", command, text);
  (void)os::WriteAll(STDERR_FILENO, line);
  return kExitError;
}

// Commands that write images or pods run, when rootless, in a user namespace with the user's
// subordinate ids (design: run, prepare, run-prepared, rm, gc, app sandbox, app add).
bool NeedsUserNamespace(const std::string& command) {
  return IsImageCommand(command) || IsPodRunCommand(command) || command == "play" ||
         PodCommandNeedsUserNamespace(command);
}

// `comet api-service`: execs comet-api-service ($COMET_API_SERVICE, else beside comet) with the
// resolved data directory; returns only on failure.
Result<int> ExecApiService(const CometInvocation& in) {
  ASSIGN_OR_RETURN(std::string dir, DataDir(in.global.dir));
  ASSIGN_OR_RETURN(std::string binary, HelperBinary("COMET_API_SERVICE", "comet-api-service",
                                                    "the api-service program"));
  std::vector<std::string> args = {binary, "--dir=" + dir};
  for (const std::string& address : in.api.listen) {
    args.push_back("--listen=" + address);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  return Err(
      Error::FromErrno("exec", binary + " (set COMET_API_SERVICE to comet-api-service's path)"));
}

// `comet node`: execs comet-node ($COMET_NODE, else beside comet) with its arguments, and the
// global --dir and --debug as comet-node's own flags; returns only on failure.
Result<int> ExecNode(const CometInvocation& in) {
  ASSIGN_OR_RETURN(std::string binary,
                   HelperBinary("COMET_NODE", "comet-node", "the node agent program"));
  std::vector<std::string> args = {binary};
  args.insert(args.end(), in.node.args.begin(), in.node.args.end());
  // After the subcommand words (get pods, describe pod NAME): comet-node takes its flags there.
  if (!in.global.dir.empty()) {
    args.push_back("--dir=" + in.global.dir);
  }
  if (in.global.debug) {
    args.emplace_back("--debug");
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  return Err(Error::FromErrno("exec", binary + " (set COMET_NODE to comet-node's path)"));
}

// `comet install`: shares the data directory with --group (data_dir.h ShareDataDir).
Result<int> Install(const CometInvocation& in) {
  ASSIGN_OR_RETURN(std::string dir, DataDir(in.global.dir));
  RETURN_IF_ERROR(ShareDataDir(dir, in.api.group));
  RETURN_IF_ERROR(
      os::WriteAll(STDOUT_FILENO, fmt::format("{} is shared with group {}\n", dir, in.api.group)));
  return 0;
}

}  // namespace

int CometMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  CometInvocation invocation;
  Status parsed = ParseCometCommandLine(args, invocation);
  if (!parsed) {
    return Report(parsed.error(), "", invocation.global.debug);
  }
  if (!invocation.output.empty()) {
    (void)os::WriteAll(STDOUT_FILENO, invocation.output);
    return 0;
  }
  if (NeedsUserNamespace(invocation.command)) {
    // Rootless: the command runs again in a user namespace with the user's subordinate ids.
    Result<std::optional<int>> reexec = ReexecInUserNamespaceIfRootless(args);
    if (!reexec) {
      return Report(reexec.error(), invocation.command, invocation.global.debug);
    }
    if (*reexec) {
      return **reexec;
    }
  }
  log::Options log_options;
  log_options.min_level = invocation.global.debug ? log::Level::kDebug : log::Level::kWarning;
  log_options.program = "comet";
  log::Configure(log_options);
  Result<int> result = Err(Error::Invalid("unknown command " + invocation.command));
  if (invocation.command == "api-service") {
    result = ExecApiService(invocation);
  } else if (invocation.command == "node") {
    result = ExecNode(invocation);
  } else if (invocation.command == "install") {
    result = Install(invocation);
  } else if (IsImageCommand(invocation.command)) {
    result = RunImageCommand(invocation);
  } else if (IsPodRunCommand(invocation.command)) {
    result = RunPodCommand(invocation.global, invocation.command, invocation.pod.args);
  } else if (invocation.command == "play") {
    result = RunPlay(invocation);
  } else if (IsPodCommand(invocation.command)) {
    result = RunPodManagementCommand(invocation);
  }
  if (!result) {
    return Report(result.error(), invocation.command, invocation.global.debug);
  }
  return *result;
}

}  // namespace comet::cli
