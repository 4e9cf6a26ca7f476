// OCI hooks that log themselves, for the hook tests (root and rootless): each appends
// "<name> <state JSON from stdin>" to one log file with a single O_APPEND write.
#ifndef COMET_E2E_HOOK_LOG_H_
#define COMET_E2E_HOOK_LOG_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace comet::e2e {

struct HookCall {
  std::string name;
  nlohmann::json state;
};

// A hook writing to `host_log`. startContainer runs inside the container, so the bundle must
// bind the log's directory at /hooklog (HookLogMount); the others see the host's paths.
nlohmann::json LoggingHook(const std::string& name, const std::string& host_log);
// The mount that makes `log_dir` visible to hooks run inside the container.
nlohmann::json HookLogMount(const std::string& log_dir);
// Every hook point (prestart ... poststop), each with one LoggingHook.
nlohmann::json AllLoggingHooks(const std::string& host_log);

std::vector<HookCall> ReadHookLog(const std::string& path);
// "prestart,createRuntime,..."
std::string HookNames(const std::vector<HookCall>& calls);

}  // namespace comet::e2e

#endif  // COMET_E2E_HOOK_LOG_H_
