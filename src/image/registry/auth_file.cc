// Credentials from containers' auth.json and docker's config.json ({"auths": {"<key>": {"auth":
// base64("user:pass"), "identitytoken": ...}}}). Thread-safe (reads files and the environment).
#include <pwd.h>
#include <unistd.h>

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/reference.h"
#include "image/registry/auth.h"
#include "os/file.h"

namespace comet::image::registry {
namespace {

constexpr size_t kMaxAuthFile = 4U << 20U;

std::string Env(const char* name) {
  const char* value = ::secure_getenv(name);
  return value != nullptr ? value : "";
}

std::string HomeDir() {
  std::string home = Env("HOME");
  if (!home.empty()) {
    return home;
  }
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_dir;
  }
  return "";
}

// The registry an "auths" key names: "host", "https://host", "http://host/v1/", "host/v2/".
// Keys with a repository path ("quay.io/org") are podman's per-namespace entries: not ours.
std::optional<std::string> KeyRegistry(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (StartsWith(key, scheme)) {
      key.remove_prefix(scheme.size());
    }
  }
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string_view path = key.substr(slash);
    if (path != "/" && path != "/v1/" && path != "/v1" && path != "/v2/" && path != "/v2") {
      return std::nullopt;
    }
    key = key.substr(0, slash);
  }
  return std::string(key);
}

bool SameRegistry(const std::string& key_registry, std::string_view registry) {
  if (key_registry == registry) {
    return true;
  }
  auto is_hub = [](std::string_view name) {
    return name == kDockerHub || name == "index.docker.io" || name == "registry-1.docker.io";
  };
  return is_hub(key_registry) && is_hub(registry);
}

Result<std::optional<Credentials>> EntryCredentials(const nlohmann::json& entry,
                                                    const std::string& path,
                                                    std::string_view registry) {
  auto bad = [&](std::string_view why) {
    return Error::Invalid(fmt::format("{}: entry for {}: {}", path, registry, why));
  };
  if (!entry.is_object()) {
    return Err(bad("not an object"));
  }
  auto token = entry.find("identitytoken");
  if (token != entry.end() && token->is_string() && !token->get<std::string>().empty()) {
    return Credentials{"<token>", token->get<std::string>()};
  }
  auto auth = entry.find("auth");
  if (auth == entry.end() || (auth->is_string() && auth->get<std::string>().empty())) {
    return std::optional<Credentials>();
  }
  if (!auth->is_string()) {
    return Err(bad("\"auth\" is not a string"));
  }
  auto decoded = Base64Decode(TrimSpace(auth->get<std::string>()));
  if (!decoded) {
    return Err(bad("\"auth\" is not valid base64"));
  }
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return Err(bad("\"auth\" is not base64 of user:password"));
  }
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace

std::vector<std::string> DefaultAuthFiles() {
  std::vector<std::string> files;
  if (std::string env = Env("REGISTRY_AUTH_FILE"); !env.empty()) {
    files.push_back(env);
  }
  if (std::string xdg = Env("XDG_RUNTIME_DIR"); !xdg.empty()) {
    files.push_back(os::JoinPath(xdg, "containers/auth.json"));
  }
  std::string home = HomeDir();
  if (!home.empty()) {
    files.push_back(os::JoinPath(home, ".config/containers/auth.json"));
  }
  if (std::string docker = Env("DOCKER_CONFIG"); !docker.empty()) {
    files.push_back(os::JoinPath(docker, "config.json"));
  }
  if (!home.empty()) {
    files.push_back(os::JoinPath(home, ".docker/config.json"));
  }
  return files;
}

Result<std::optional<Credentials>> CredentialsFromFile(const std::string& path,
                                                       std::string_view registry) {
  auto text = os::ReadFileLimited(path, kMaxAuthFile);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return std::optional<Credentials>();
    }
    return Err(std::move(text).error().AddContext("reading auth file " + path));
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception&) {
    // The parser's message quotes the input: never show it, it holds secrets.
    return Err(Error::Invalid(fmt::format("auth file {}: not valid JSON", path)));
  }
  if (!json.is_object()) {
    return Err(Error::Invalid(fmt::format("auth file {}: not a JSON object", path)));
  }
  auto auths = json.find("auths");
  if (auths == json.end() || auths->is_null()) {
    return std::optional<Credentials>();
  }
  if (!auths->is_object()) {
    return Err(Error::Invalid(fmt::format("auth file {}: \"auths\" is not an object", path)));
  }
  // An exact key wins over the URL forms of the same registry.
  if (auto exact = auths->find(std::string(registry)); exact != auths->end()) {
    return EntryCredentials(*exact, path, registry);
  }
  for (const auto& [key, entry] : auths->items()) {
    auto key_registry = KeyRegistry(key);
    if (key_registry && SameRegistry(*key_registry, registry)) {
      ASSIGN_OR_RETURN(auto creds, EntryCredentials(entry, path, registry));
      if (creds) {
        return creds;
      }
    }
  }
  return std::optional<Credentials>();
}

Result<std::optional<Credentials>> LookupCredentials(std::string_view registry,
                                                     const RegistryOptions& options) {
  if (options.credentials) {
    return options.credentials;
  }
  if (!options.auth_file.empty()) {
    if (!os::Exists(options.auth_file)) {
      return Err(Error::NotFound(fmt::format("auth file {} does not exist", options.auth_file)));
    }
    return CredentialsFromFile(options.auth_file, registry);
  }
  for (const auto& path : DefaultAuthFiles()) {
    ASSIGN_OR_RETURN(auto creds, CredentialsFromFile(path, registry));
    if (creds) {
      return creds;
    }
  }
  return std::optional<Credentials>();
}

}  // namespace comet::image::registry
