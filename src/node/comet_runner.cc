// CometRunner (see comet_runner.h).
#include "node/comet_runner.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "node/unit_file.h"

namespace comet::node {
namespace {

// comet's answer for a pod that is not (or no longer) there: `rm` and `stop` of such a pod have
// nothing left to do.
bool SaysNoSuchPod(const os::SubprocessResult& result) {
  return result.stderr_data.find("no pod matches") != std::string::npos ||
         result.stderr_data.find("no pod ") != std::string::npos ||
         result.stderr_data.find("was removed") != std::string::npos;
}

}  // namespace

std::string CommandFailure(const os::SubprocessResult& result) {
  std::vector<std::string> lines = Split(std::string(TrimSpace(result.stderr_data)), '\n');
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    std::string_view line = TrimSpace(*it);
    if (!line.empty()) {
      return Printable(line, 400);
    }
  }
  return result.Describe();
}

std::vector<std::string> CometRunner::Argv(std::vector<std::string> tail) const {
  std::vector<std::string> argv = {options_.program};
  if (!options_.data_dir.empty()) {
    argv.push_back("--dir=" + options_.data_dir);
  }
  argv.insert(argv.end(), std::make_move_iterator(tail.begin()),
              std::make_move_iterator(tail.end()));
  return argv;
}

Result<os::SubprocessResult> CometRunner::Run(std::vector<std::string> tail,
                                              std::chrono::milliseconds timeout) const {
  os::SubprocessOptions options;
  options.program = options_.program;
  options.argv = Argv(std::move(tail));
  options.timeout = timeout;
  return os::RunSubprocess(options);
}

Result<std::string> CometRunner::Prepare(const PrepareRequest& request,
                                         std::vector<std::string>* warnings) const {
  std::vector<std::string> tail = {"play", "--prepare", "-q", "--only",
                                   request.namespace_name + "/" + request.name};
  for (const auto& [key, value] : request.annotations) {
    tail.push_back(fmt::format("--annotation={}={}", key, value));
  }
  if (!options_.net.empty()) {
    tail.push_back("--net=" + options_.net);
  }
  tail.push_back(request.file);
  ASSIGN_OR_RETURN(os::SubprocessResult result, Run(std::move(tail), options_.prepare_timeout));
  if (!result.Succeeded()) {
    return Err(Error(EIO, fmt::format("comet play --prepare: {}", CommandFailure(result))));
  }
  if (warnings != nullptr) {
    for (const std::string& line : Split(result.stderr_data, '\n')) {
      if (!TrimSpace(line).empty()) {
        warnings->push_back(Printable(TrimSpace(line), 400));
      }
    }
  }
  // -q prints the UUID alone; the last line, should comet ever say more.
  std::string uuid;
  for (const std::string& line : Split(result.stdout_data, '\n')) {
    if (!TrimSpace(line).empty()) {
      uuid = std::string(TrimSpace(line));
    }
  }
  if (!IsValidPodUuid(uuid)) {
    return Err(Error(EIO, fmt::format("comet play --prepare printed no pod UUID ({:?})",
                                      Printable(result.stdout_data, 200))));
  }
  return uuid;
}

std::vector<std::string> CometRunner::RunPreparedArgv(const std::string& uuid) const {
  return Argv({"run-prepared", uuid});
}

Status CometRunner::RunPreparedDetached(const std::string& uuid) const {
  ASSIGN_OR_RETURN(os::SubprocessResult result,
                   Run({"run-prepared", "-d", uuid}, options_.command_timeout));
  if (!result.Succeeded()) {
    return Err(
        Error(EIO, fmt::format("comet run-prepared -d {}: {}", uuid, CommandFailure(result))));
  }
  return Ok();
}

Status CometRunner::Stop(const std::string& uuid, std::chrono::seconds grace) const {
  ASSIGN_OR_RETURN(
      os::SubprocessResult result,
      Run({"stop", fmt::format("--timeout={}s", grace.count()), uuid},
          options_.command_timeout + std::chrono::duration_cast<std::chrono::milliseconds>(grace)));
  if (!result.Succeeded() && !SaysNoSuchPod(result) &&
      result.stderr_data.find("not running") == std::string::npos) {
    return Err(Error(EIO, fmt::format("comet stop {}: {}", uuid, CommandFailure(result))));
  }
  return Ok();
}

Status CometRunner::Remove(const std::string& uuid) const {
  ASSIGN_OR_RETURN(os::SubprocessResult result, Run({"rm", uuid}, options_.command_timeout));
  if (!result.Succeeded() && !SaysNoSuchPod(result)) {
    return Err(Error(EIO, fmt::format("comet rm {}: {}", uuid, CommandFailure(result))));
  }
  return Ok();
}

Result<os::SubprocessResult> CometRunner::Exec(const std::string& uuid, const std::string& app,
                                               const std::vector<std::string>& command,
                                               std::chrono::milliseconds timeout) const {
  std::vector<std::string> tail = {"exec", "--app=" + app, uuid, "--"};
  tail.insert(tail.end(), command.begin(), command.end());
  return Run(std::move(tail), timeout);
}

}  // namespace comet::node
