// CNI network configurations (CNI spec 1.0 §1): a single-plugin `.conf` or a `.conflist`,
// parsed and validated into a NetworkConfig whose plugin objects are kept verbatim (each plugin
// interprets its own). Also the plugin lookup in the CNI path and the "materialised" form that
// is executed and recorded. Thread-safe (pure functions).
#ifndef COMET_NETWORK_CNI_CONFIG_H_
#define COMET_NETWORK_CNI_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace comet::network {

// The largest network config file read.
inline constexpr size_t kMaxNetworkConfigBytes = size_t{1} << 20;
inline constexpr size_t kMaxNetworkNameLength = 64;
inline constexpr size_t kMaxPluginsPerNetwork = 32;
// CNI_PATH when the caller sets none: Debian's plugins, then the upstream install location.
inline constexpr std::string_view kDefaultCniPath = "/usr/lib/cni:/opt/cni/bin";

// NOLINTNEXTLINE(bugprone-exception-escape): false positive on implicit members (json::Json)
struct PluginConfig {
  std::string type;                       // the plugin's file name ("bridge")
  std::vector<std::string> capabilities;  // capability names the plugin declares true
  json::Json object;                      // the plugin's object, verbatim
};

struct NetworkConfig {
  std::string name;
  std::string cni_version;  // "0.3.0", "0.3.1", "0.4.0" or "1.0.0"
  bool disable_check = false;
  std::vector<PluginConfig> plugins;  // execution order of ADD
  std::string source;                 // the file it came from, or "built-in"
};

// Checks a network name against CNI's rule ([A-Za-z0-9][A-Za-z0-9_.-]*) and our length bound.
[[nodiscard]] Status ValidateNetworkName(std::string_view name);
// True for the versions whose chains pass prevResult on DEL and support CHECK (>= 0.4.0).
[[nodiscard]] bool HasCheckAndDelResult(std::string_view cni_version);

// Parses a .conf (one plugin object with name/cniVersion) or a .conflist (with "plugins").
// `source` names the file in errors. Does not look for the plugin binaries.
[[nodiscard]] Result<NetworkConfig> ParseNetworkConfig(std::string_view text,
                                                       std::string_view source);
// Reads (bounded) and parses one file; errors name the file.
[[nodiscard]] Result<NetworkConfig> LoadNetworkConfigFile(const std::string& path);

// Splits a "dir1:dir2" CNI path; empty parts are dropped.
std::vector<std::string> SplitCniPath(std::string_view cni_path);
// The path of plugin `type` in the first directory of `cni_path` holding an executable file.
[[nodiscard]] Result<std::string> FindPlugin(std::string_view type,
                                             const std::vector<std::string>& cni_path);
// Checks that every plugin of `config` (and every IPAM plugin they name) is installed:
// "network NAME: unknown plugin TYPE (not found in DIRS)".
[[nodiscard]] Status CheckPluginsInstalled(const NetworkConfig& config,
                                           const std::vector<std::string>& cni_path);

struct MaterializeOptions {
  // host-local's "dataDir" for plugins whose ipam names none (empty: the plugin's default,
  // /var/lib/cni/networks).
  std::string ipam_data_dir;
};
// The config as it will be executed: options applied. Deterministic, so the record of an ADD
// holds exactly what a later DEL must be given.
NetworkConfig Materialize(NetworkConfig config, const MaterializeOptions& options);

// The config as a conflist document (what a record stores), and back.
json::Json ToConfList(const NetworkConfig& config);
[[nodiscard]] Result<NetworkConfig> FromConfList(const json::Json& conflist,
                                                 std::string_view source);

}  // namespace comet::network

#endif  // COMET_NETWORK_CNI_CONFIG_H_
