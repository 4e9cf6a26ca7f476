// Parsing, validation, plugin lookup and materialisation of CNI network configs; see
// cni_config.h.
#include "network/cni_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "base/strings.h"
#include "network/json_doc.h"
#include "os/file.h"

namespace comet::network {

namespace {

constexpr std::array<std::string_view, 4> kCniVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
constexpr size_t kMaxPluginTypeLength = 128;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Error ConfigError(std::string_view source, std::string_view what) {
  return Error::Invalid(fmt::format("network config {}: {}", source, what));
}

// A plugin type is a file name in the CNI path: no directories, nothing to climb out with.
Status ValidatePluginType(std::string_view type, std::string_view field) {
  if (type.empty() || type.size() > kMaxPluginTypeLength || type == "." || type == "..") {
    return Err(Error::Invalid(
        fmt::format("{}: invalid plugin type \"{}\"", field, Printable(type, json::kMaxShown))));
  }
  for (char c : type) {
    if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') {
      return Err(Error::Invalid(fmt::format("{}: invalid plugin type \"{}\" (a file name only)",
                                            field, Printable(type, json::kMaxShown))));
    }
  }
  return Ok();
}

Result<PluginConfig> ParsePlugin(const json::Json& object, const std::string& path) {
  RETURN_IF_ERROR(json::ExpectObject(object, path, json::Wording::kNamesType));
  json::ObjectReader reader(object, path);
  PluginConfig plugin;
  RETURN_IF_ERROR(
      json::ReadRequired(object, "type", path, &plugin.type, json::Wording::kNamesType));
  RETURN_IF_ERROR(ValidatePluginType(plugin.type, reader.PathOf("type")));
  if (const json::Json* caps = reader.Member("capabilities"); caps != nullptr) {
    if (!caps->is_object()) {
      return Err(json::TypeError(reader.PathOf("capabilities"), "object", *caps,
                                 json::Wording::kNamesType));
    }
    for (const auto& [name, value] : caps->items()) {
      if (value.is_boolean() && value.get<bool>()) {
        plugin.capabilities.push_back(name);
      }
    }
  }
  if (const json::Json* ipam = reader.Member("ipam"); ipam != nullptr) {
    std::string ipam_path = reader.PathOf("ipam");
    RETURN_IF_ERROR(json::ExpectObject(*ipam, ipam_path, json::Wording::kNamesType));
    std::string ipam_type;
    RETURN_IF_ERROR(json::Read(*ipam, "type", ipam_path, &ipam_type, json::Wording::kNamesType));
    if (!ipam_type.empty()) {
      RETURN_IF_ERROR(ValidatePluginType(ipam_type, json::ChildPath(ipam_path, "type")));
    }
  }
  plugin.object = object;
  return plugin;
}

Status ReadHeader(const json::Json& root, NetworkConfig* config) {
  RETURN_IF_ERROR(json::ReadRequired(root, "name", "", &config->name, json::Wording::kNamesType));
  RETURN_IF_ERROR(ValidateNetworkName(config->name));
  RETURN_IF_ERROR(
      json::ReadRequired(root, "cniVersion", "", &config->cni_version, json::Wording::kNamesType));
  if (std::find(kCniVersions.begin(), kCniVersions.end(), config->cni_version) ==
      kCniVersions.end()) {
    return Err(Error::Invalid(fmt::format(
        "cniVersion: unsupported version \"{}\" (supported: {})",
        Printable(config->cni_version, json::kMaxShown),
        Join(std::vector<std::string>(kCniVersions.begin(), kCniVersions.end()), ", "))));
  }
  return json::Read(root, "disableCheck", "", &config->disable_check, json::Wording::kNamesType);
}

Result<NetworkConfig> ParseRoot(const json::Json& root) {
  NetworkConfig config;
  RETURN_IF_ERROR(ReadHeader(root, &config));
  const json::Json* plugins = json::Member(root, "plugins");
  if (plugins == nullptr) {
    // A single-plugin .conf: the whole document is the plugin's object.
    ASSIGN_OR_RETURN(PluginConfig plugin, ParsePlugin(root, ""));
    config.plugins.push_back(std::move(plugin));
    return config;
  }
  if (!plugins->is_array()) {
    return Err(json::TypeError("plugins", "array", *plugins, json::Wording::kNamesType));
  }
  if (plugins->empty()) {
    return Err(Error::Invalid("plugins: empty list"));
  }
  if (plugins->size() > kMaxPluginsPerNetwork) {
    return Err(Error::Invalid(fmt::format("plugins: {} plugins, more than the limit of {}",
                                          plugins->size(), kMaxPluginsPerNetwork)));
  }
  for (size_t i = 0; i < plugins->size(); ++i) {
    ASSIGN_OR_RETURN(PluginConfig plugin,
                     ParsePlugin((*plugins)[i], json::IndexPath("plugins", i)));
    config.plugins.push_back(std::move(plugin));
  }
  return config;
}

}  // namespace

Status ValidateNetworkName(std::string_view name) {
  if (name.empty()) {
    return Err(Error::Invalid("name: empty network name"));
  }
  if (name.size() > kMaxNetworkNameLength) {
    return Err(Error::Invalid(
        fmt::format("name: network name longer than {} characters", kMaxNetworkNameLength)));
  }
  bool ok = IsAlnum(name[0]);
  for (char c : name) {
    ok = ok && (IsAlnum(c) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return Err(Error::Invalid(
        fmt::format("name: invalid network name \"{}\" (letters, digits, '_', '.', '-', "
                    "starting with a letter or digit)",
                    Printable(name, json::kMaxShown))));
  }
  return Ok();
}

bool HasCheckAndDelResult(std::string_view cni_version) {
  return cni_version == "0.4.0" || cni_version == "1.0.0";
}

Result<NetworkConfig> ParseNetworkConfig(std::string_view text, std::string_view source) {
  auto root =
      ParseJsonObject(text, kMaxNetworkConfigBytes, fmt::format("network config {}", source));
  if (!root) {
    return Err(std::move(root).error());
  }
  auto config = ParseRoot(*root);
  if (!config) {
    return Err(ConfigError(source, config.error().message()));
  }
  config->source = std::string(source);
  return config;
}

Result<NetworkConfig> LoadNetworkConfigFile(const std::string& path) {
  auto text = os::ReadFileLimited(path, kMaxNetworkConfigBytes);
  if (!text) {
    if (text.error().code() == EFBIG) {
      return Err(ConfigError(
          path, fmt::format("larger than the limit of {} bytes", kMaxNetworkConfigBytes)));
    }
    return Err(std::move(text).error().AddContext(fmt::format("reading network config {}", path)));
  }
  return ParseNetworkConfig(*text, path);
}

std::vector<std::string> SplitCniPath(std::string_view cni_path) {
  std::vector<std::string> dirs;
  for (std::string& dir : Split(cni_path, ':')) {
    if (!dir.empty()) {
      dirs.push_back(std::move(dir));
    }
  }
  return dirs;
}

Result<std::string> FindPlugin(std::string_view type, const std::vector<std::string>& cni_path) {
  RETURN_IF_ERROR(ValidatePluginType(type, "type"));
  for (const std::string& dir : cni_path) {
    std::string path = os::JoinPath(dir, type);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return path;
    }
  }
  return Err(
      Error::NotFound(fmt::format("unknown plugin {} (not found in {})", type,
                                  cni_path.empty() ? "an empty CNI path" : Join(cni_path, ":"))));
}

Status CheckPluginsInstalled(const NetworkConfig& config,
                             const std::vector<std::string>& cni_path) {
  for (const PluginConfig& plugin : config.plugins) {
    std::vector<std::string> types = {plugin.type};
    const json::Json* ipam = json::Member(plugin.object, "ipam");
    if (ipam != nullptr && ipam->is_object()) {
      if (const json::Json* t = json::Member(*ipam, "type"); t != nullptr && t->is_string()) {
        types.push_back(t->get<std::string>());
      }
    }
    for (const std::string& type : types) {
      if (auto found = FindPlugin(type, cni_path); !found) {
        return Err(std::move(found).error().AddContext(fmt::format("network {}", config.name)));
      }
    }
  }
  return Ok();
}

NetworkConfig Materialize(NetworkConfig config, const MaterializeOptions& options) {
  for (PluginConfig& plugin : config.plugins) {
    json::Json* ipam = nullptr;
    if (auto it = plugin.object.find("ipam"); it != plugin.object.end() && it->is_object()) {
      ipam = &*it;
    }
    if (ipam == nullptr || options.ipam_data_dir.empty()) {
      continue;
    }
    auto type = ipam->find("type");
    if (type != ipam->end() && *type == "host-local" && !ipam->contains("dataDir")) {
      (*ipam)["dataDir"] = options.ipam_data_dir;
    }
  }
  return config;
}

json::Json ToConfList(const NetworkConfig& config) {
  json::Json list = json::Json::object();
  list["cniVersion"] = config.cni_version;
  list["name"] = config.name;
  if (config.disable_check) {
    list["disableCheck"] = true;
  }
  json::Json plugins = json::Json::array();
  for (const PluginConfig& plugin : config.plugins) {
    plugins.push_back(plugin.object);
  }
  list["plugins"] = std::move(plugins);
  return list;
}

Result<NetworkConfig> FromConfList(const json::Json& conflist, std::string_view source) {
  auto config = ParseRoot(conflist);
  if (!config) {
    return Err(ConfigError(source, config.error().message()));
  }
  config->source = std::string(source);
  return config;
}

}  // namespace comet::network
