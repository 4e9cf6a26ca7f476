// The commands of comet-runtime, dispatched from a parsed Invocation to the runtime library.
// Errors are formatted here, once: "comet-runtime: <command>: <message>" on stderr and, with
// --log, an error record in the log file (conmon and podman read the last one of a JSON log).
#include "cli/runtime_app.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>
#include <string>
#include <vector>

#include "base/log.h"
#include "cli/command_line.h"
#include "cli/list_format.h"
#include "cli/ps_table.h"
#include "cli/update_flags.h"
#include "oci/default_spec.h"
#include "oci/features.h"
#include "oci/spec_json.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "runtime/runtime.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::cli {
namespace {

constexpr int kExitFailure = 1;
// `update -r -` reads a resources object from stdin; real ones are a few KiB.
constexpr size_t kMaxResourcesSize = size_t{1} << 20;

Status Print(std::string_view text) {
  RETURN_IF_ERROR_CTX(os::WriteAll(STDOUT_FILENO, text), "writing to stdout");
  return Ok();
}

// Engines pass paths relative to their own working directory; the runtime may chdir.
Result<std::string> Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') {
    return path;
  }
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
    return Err(Error::FromErrno("getcwd"));
  }
  return path == "." ? std::string(cwd) : os::JoinPath(cwd, path);
}

Status MakePathsAbsolute(Invocation& invocation) {
  runtime::CreateOptions& create = invocation.run.create;
  for (std::string* path : {&create.bundle, &create.pid_file, &create.console_socket,
                            &invocation.exec.pid_file, &invocation.exec.console_socket}) {
    ASSIGN_OR_RETURN(*path, Absolute(*path));
  }
  return Ok();
}

Result<int> DoCreate(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Create(in.global, in.run.create));
  return 0;
}

Result<int> DoRun(const Invocation& in) {
  return runtime::Run(in.global, in.run);
}

Result<int> DoStart(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Start(in.global, in.id));
  return 0;
}

Result<int> DoState(const Invocation& in) {
  ASSIGN_OR_RETURN(std::string json, runtime::StateJson(in.global, in.id));
  RETURN_IF_ERROR(Print(json + "\n"));
  return 0;
}

Result<int> DoKill(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Kill(in.global, in.kill));
  return 0;
}

Result<int> DoDelete(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Delete(in.global, in.id, in.force));
  return 0;
}

Result<int> DoExec(const Invocation& in) {
  return runtime::Exec(in.global, in.exec);
}

Result<int> DoList(const Invocation& in) {
  ASSIGN_OR_RETURN(std::vector<runtime::ContainerInfo> containers, runtime::List(in.global));
  if (in.quiet) {
    RETURN_IF_ERROR(Print(FormatListQuiet(containers)));
  } else if (in.format == "json") {
    RETURN_IF_ERROR(Print(FormatListJson(containers)));
  } else {
    RETURN_IF_ERROR(Print(FormatListTable(containers)));
  }
  return 0;
}

Result<int> DoPs(const Invocation& in) {
  ASSIGN_OR_RETURN(std::vector<pid_t> pids, runtime::Pids(in.global, in.id));
  if (in.format == "json") {
    RETURN_IF_ERROR(Print(FormatPidsJson(pids)));
    return 0;
  }
  ASSIGN_OR_RETURN(std::string output,
                   RunPs(in.ps_args.empty() ? std::vector<std::string>{"-ef"} : in.ps_args));
  ASSIGN_OR_RETURN(std::string table, FilterPsOutput(output, pids));
  RETURN_IF_ERROR(Print(table));
  return 0;
}

Result<int> DoPause(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Pause(in.global, in.id));
  return 0;
}

Result<int> DoResume(const Invocation& in) {
  RETURN_IF_ERROR(runtime::Resume(in.global, in.id));
  return 0;
}

Result<oci::Resources> ReadResources(const std::string& file) {
  Result<std::string> json = file == "-" ? os::ReadFd(STDIN_FILENO, kMaxResourcesSize)
                                         : os::ReadFileLimited(file, kMaxResourcesSize);
  if (!json) {
    return Err(std::move(json).error().AddContext("reading --resources"));
  }
  Result<oci::Resources> resources = oci::ParseResources(*json);
  if (!resources) {
    return Err(std::move(resources).error().AddContext(file == "-" ? "stdin" : file));
  }
  return resources;
}

Result<int> DoUpdate(const Invocation& in) {
  oci::Resources resources;
  if (!in.resources_file.empty()) {
    ASSIGN_OR_RETURN(resources, ReadResources(in.resources_file));
  }
  RETURN_IF_ERROR(ApplyUpdateFlags(in.update, resources));
  RETURN_IF_ERROR(runtime::Update(in.global, in.id, resources));
  return 0;
}

Result<int> DoFeatures(const Invocation& /*in*/) {
  oci::FeaturesOptions options;
  options.annotations["comet.runtime.version"] = COMET_VERSION;
  std::string json = oci::FeaturesJson(options);
  if (json.empty() || json.back() != '\n') {
    json += '\n';
  }
  RETURN_IF_ERROR(Print(json));
  return 0;
}

Result<int> DoSpec(const Invocation& in) {
  std::string path = os::JoinPath(in.spec_bundle, "config.json");
  // O_EXCL: never overwrite a config someone edited, even if it appears while we run.
  os::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!fd) {
    if (errno == EEXIST) {
      return Err(Error(EEXIST, "File config.json exists. Remove it first"));
    }
    return Err(Error::FromErrno("creating", path));
  }
  std::string json = oci::SpecToJson(oci::DefaultSpec(in.spec_rootless));
  RETURN_IF_ERROR_CTX(os::WriteAll(fd.get(), json), path);
  return 0;
}

using CommandFn = Result<int> (*)(const Invocation&);

const std::map<std::string, CommandFn>& Commands() {
  static const auto* commands = new std::map<std::string, CommandFn>{
      {"create", DoCreate},     {"run", DoRun},       {"start", DoStart},
      {"state", DoState},       {"kill", DoKill},     {"delete", DoDelete},
      {"exec", DoExec},         {"list", DoList},     {"ps", DoPs},
      {"pause", DoPause},       {"resume", DoResume}, {"update", DoUpdate},
      {"features", DoFeatures}, {"spec", DoSpec},
  };
  return *commands;
}

// Logs go to --log (appended) or stderr, in --log-format. Returns whether they go to a file.
Result<bool> ConfigureLogging(const Invocation& in) {
  log::Options options;
  options.program = "comet-runtime";
  options.format = in.log_format;
  options.min_level = in.global.debug ? log::Level::kDebug : log::Level::kWarning;
  if (!in.log_file.empty()) {
    int fd = ::open(in.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Err(Error::FromErrno("opening log file", in.log_file));
    }
    options.fd = fd;  // kept open for the life of the process
  }
  log::Configure(std::move(options));
  return !in.log_file.empty();
}

// The one place an error is shown: stderr always, the log file too when there is one (when
// logs go to stderr, a second copy there would only repeat the line).
int ReportFailure(const Error& error, bool log_to_file) {
  std::string message = error.ToString();
  if (log_to_file) {
    log::Error("{}", message);
  }
  std::string line = "comet-runtime: " + message + "\n";
  (void)os::WriteAll(STDERR_FILENO, line);  // nowhere left to report a failure to
  return kExitFailure;
}

int Dispatch(Invocation& invocation, bool log_to_file) {
  // Only where a cgroup is made; engines pass the flag to every command.
  if (invocation.global.systemd_cgroup &&
      (invocation.command == "create" || invocation.command == "run")) {
    log::Warning("--systemd-cgroup: the systemd cgroup driver is not supported; using cgroupfs");
  }
  log::Debug("{}: id \"{}\"", invocation.command, invocation.id);
  Result<int> code = MakePathsAbsolute(invocation).and_then([&] {
    return Commands().at(invocation.command)(invocation);
  });
  if (!code) {
    return ReportFailure(std::move(code).error().AddContext(invocation.command), log_to_file);
  }
  return std::clamp(*code, 0, 255);
}

}  // namespace

int RuntimeMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Invocation invocation;
  Status parsed = ParseCommandLine(args, invocation);
  Result<bool> log_to_file = ConfigureLogging(invocation);
  if (!log_to_file) {
    return ReportFailure(log_to_file.error(), false);
  }
  if (!parsed) {
    return ReportFailure(parsed.error(), *log_to_file);
  }
  if (invocation.command.empty()) {
    Status printed = Print(invocation.output);
    return printed ? 0 : ReportFailure(printed.error(), *log_to_file);
  }
  return Dispatch(invocation, *log_to_file);
}

}  // namespace comet::cli
