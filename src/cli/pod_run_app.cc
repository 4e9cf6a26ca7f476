// Resolving the images of a pod and building its apps from image configs and flags.
#include "cli/pod_run_app.h"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/image_pull.h"
#include "os/file.h"

namespace comet::cli {
namespace {

// An --set-env-file is a short list of KEY=VALUE lines; this bounds a mistaken argument.
constexpr size_t kMaxEnvFileBytes = 1 << 20;

std::string EnvKey(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

bool NamesContain(const image::ImageRecord& record, const image::Reference& ref) {
  const std::string name = ref.ToString();
  return std::find(record.names.begin(), record.names.end(), name) != record.names.end();
}

Result<ResolvedImage> LoadResolved(const image::Store& store, image::ImageRecord record) {
  ResolvedImage out;
  ASSIGN_OR_RETURN(out.manifest, store.ReadManifest(record));
  ASSIGN_OR_RETURN(out.config, store.ReadConfig(record));
  if (out.manifest.layers.size() != out.config.diff_ids.size()) {
    return Err(Error::Invalid(fmt::format("{} layers but {} diff IDs", out.manifest.layers.size(),
                                          out.config.diff_ids.size())));
  }
  out.record = std::move(record);
  return out;
}

Result<image::ImageRecord> FindOrPull(image::Store& store, const std::string& what,
                                      PullPolicy policy, bool quiet) {
  auto ref = image::ParseReference(what, store.reference_options());
  auto found = store.FindImage(what);
  if (!found && found.error().code() != ENOENT) {
    return Err(std::move(found).error());
  }
  if (found) {
    // --pull-policy=update pulls names again; an image named by ID or digest cannot change.
    const bool by_name = ref && !ref->digest && NamesContain(*found, *ref);
    if (policy != PullPolicy::kUpdate || !by_name) {
      return std::move(*found);
    }
  }
  if (policy == PullPolicy::kNever) {
    return Err(Error::NotFound("not in the image store (--pull-policy=never)"));
  }
  if (!ref) {
    return Err(Error::NotFound("not in the image store and not a registry reference: " +
                               ref.error().ToString()));
  }
  return PullImage(store, *ref, RegistryFlags{}, quiet);
}

// "uid", "uid:gid", "name:group" from the image config's User.
void SplitUser(const std::string& user, std::string& uid, std::string& gid) {
  const size_t colon = user.find(':');
  uid = user.substr(0, colon);
  if (colon != std::string::npos) {
    gid = user.substr(colon + 1);
  }
}

Result<std::vector<std::string>> BuildExec(const AppFlags& flags,
                                           const image::ImageConfig::Process& config) {
  std::vector<std::string> exec;
  if (flags.command) {
    exec = *flags.command;
    exec.insert(exec.end(), flags.args.begin(), flags.args.end());
  } else if (flags.exec) {
    exec.push_back(*flags.exec);
    exec.insert(exec.end(), flags.args.begin(), flags.args.end());
  } else {
    exec = config.entrypoint;
    const std::vector<std::string>& rest = flags.args_given ? flags.args : config.cmd;
    exec.insert(exec.end(), rest.begin(), rest.end());
  }
  if (exec.empty() || exec.front().empty()) {
    return Err(Error::Invalid(
        "no command: the image has no entrypoint or cmd; give --exec or arguments after --"));
  }
  return exec;
}

}  // namespace

std::vector<image::Digest> ResolvedImage::LeaseDigests() const {
  std::vector<image::Digest> digests = {record.manifest_digest, record.config_digest};
  for (const image::Descriptor& layer : manifest.layers) {
    digests.push_back(layer.digest);
  }
  digests.insert(digests.end(), config.diff_ids.begin(), config.diff_ids.end());
  return digests;
}

Result<ResolvedImage> ResolveImage(image::Store& store, const std::string& what, PullPolicy policy,
                                   bool quiet) {
  auto record = FindOrPull(store, what, policy, quiet);
  if (!record) {
    return Err(std::move(record).error().AddContext("image " + what));
  }
  auto resolved = LoadResolved(store, std::move(*record));
  if (!resolved) {
    return Err(std::move(resolved).error().AddContext("image " + what));
  }
  return resolved;
}

void MergeEnv(std::vector<std::string>& env, const std::vector<std::string>& more) {
  for (const std::string& entry : more) {
    const std::string key = EnvKey(entry);
    auto same = std::find_if(env.begin(), env.end(),
                             [&](const std::string& e) { return EnvKey(e) == key; });
    if (same != env.end()) {
      *same = entry;
    } else {
      env.push_back(entry);
    }
  }
}

Result<std::vector<std::string>> LoadPodEnv(const PodRunOptions& options) {
  std::vector<std::string> env;
  for (const std::string& path : options.set_env_files) {
    auto text = os::ReadFileLimited(path, kMaxEnvFileBytes);
    if (!text) {
      return Err(std::move(text).error().AddContext("--set-env-file"));
    }
    std::vector<std::string> entries;
    int line_number = 0;
    for (const std::string& raw : Split(*text, '\n')) {
      ++line_number;
      const std::string line(TrimSpace(raw));
      if (line.empty() || line.front() == '#') {
        continue;
      }
      if (line.find('=') == std::string::npos || line.front() == '=') {
        return Err(Error::Invalid(
            fmt::format("--set-env-file {}: line {}: expected KEY=VALUE", path, line_number)));
      }
      entries.push_back(line);
    }
    MergeEnv(env, entries);
  }
  MergeEnv(env, options.set_env);
  return env;
}

Result<std::string> DefaultAppName(const std::string& what, const image::ImageRecord& record,
                                   const image::ReferenceOptions& options) {
  auto ref = image::ParseReference(what, options);
  std::string repository;
  if (ref && (ref->digest || NamesContain(record, *ref) || record.names.empty())) {
    repository = ref->repository;
  } else if (!record.names.empty()) {
    auto named = image::ParseReference(record.names.front(), options);
    if (named) {
      repository = named->repository;
    }
  }
  if (repository.empty()) {
    return Err(
        Error::Invalid(fmt::format("image {}: no name to name the app after: give --name", what)));
  }
  return repository.substr(repository.rfind('/') + 1);
}

Result<pod::App> BuildApp(const AppFlags& flags, const std::string& name,
                          const ResolvedImage& image, const std::vector<std::string>& pod_env,
                          const std::vector<pod::MountPoint>& pod_mounts) {
  const image::ImageConfig::Process& config = image.config.config;
  pod::App app = flags.app;
  app.name = name;
  app.image_id = image.record.manifest_digest.ToString();
  if (!image.record.config_digest.empty()) {
    app.image_config_id = image.record.config_digest.ToString();
  }
  auto exec = BuildExec(flags, config);
  if (!exec) {
    return Err(std::move(exec).error().AddContext(fmt::format("app {}", name)));
  }
  app.exec = std::move(*exec);
  app.env = config.env;
  MergeEnv(app.env, pod_env);
  MergeEnv(app.env, flags.environment);
  if (std::none_of(app.env.begin(), app.env.end(),
                   [](const std::string& e) { return EnvKey(e) == "PATH"; })) {
    app.env.insert(app.env.begin(), kDefaultPathEnv);
  }
  // The image's User ("uid[:gid]", names allowed), overridden field by field by the flags. The
  // supervisor looks names up in the app's own /etc/passwd and /etc/group.
  // No group: the user's primary group from the image's /etc/passwd (0 when the user has no
  // entry there), as docker and podman do.
  std::string user = "0";
  std::string group;
  if (!config.user.empty()) {
    SplitUser(config.user, user, group);
  }
  app.user = flags.user.value_or(user.empty() ? "0" : user);
  app.group = flags.group.value_or(group);
  app.working_dir =
      flags.working_dir.value_or(config.working_dir.empty() ? "/" : config.working_dir);
  // An app's own --mount on a target replaces the pod-wide one there.
  app.mounts.clear();
  for (const pod::MountPoint& mount : pod_mounts) {
    if (std::none_of(flags.app.mounts.begin(), flags.app.mounts.end(),
                     [&](const pod::MountPoint& own) { return own.target == mount.target; })) {
      app.mounts.push_back(mount);
    }
  }
  app.mounts.insert(app.mounts.end(), flags.app.mounts.begin(), flags.app.mounts.end());
  return app;
}

}  // namespace comet::cli
