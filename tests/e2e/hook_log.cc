// Logging hooks.
#include "e2e/hook_log.h"

#include <sstream>

#include "e2e/subprocess.h"

namespace comet::e2e {

nlohmann::json LoggingHook(const std::string& name, const std::string& host_log) {
  // One printf, so one O_APPEND write: hooks of the container and of the host may run at once.
  std::string script = "L=" + host_log +
                       "; [ -d /hooklog ] && L=/hooklog/log; S=$(tr '\\n' ' '); " +
                       "printf '%s %s\\n' " + name + " \"$S\" >> $L";
  return {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
}

nlohmann::json HookLogMount(const std::string& log_dir) {
  return {
      {"destination", "/hooklog"}, {"type", "bind"}, {"source", log_dir}, {"options", {"bind"}}};
}

nlohmann::json AllLoggingHooks(const std::string& host_log) {
  nlohmann::json hooks;
  for (const char* name : {"prestart", "createRuntime", "createContainer", "startContainer",
                           "poststart", "poststop"}) {
    hooks[name] = {LoggingHook(name, host_log)};
  }
  return hooks;
}

std::vector<HookCall> ReadHookLog(const std::string& path) {
  std::vector<HookCall> calls;
  std::stringstream lines(ReadFileOrEmpty(path));
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    if (space != std::string::npos) {
      calls.push_back(
          {line.substr(0, space), nlohmann::json::parse(line.substr(space + 1), nullptr, false)});
    }
  }
  return calls;
}

std::string HookNames(const std::vector<HookCall>& calls) {
  std::string names;
  for (const HookCall& call : calls) {
    names += (names.empty() ? "" : ",") + call.name;
  }
  return names;
}

}  // namespace comet::e2e
