// Store opening and registry pulls shared by the image commands and stage0.
#include "cli/image_pull.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "cli/data_dir.h"
#include "cli/event_record.h"
#include "cli/progress_bar.h"
#include "image/layer_trees.h"
#include "image/registry/pull.h"

#ifndef COMET_VERSION
#define COMET_VERSION "unknown"
#endif

namespace comet::cli {

Result<image::Store> OpenImageStore(const std::string& data_dir, const CometGlobalFlags& global) {
  RETURN_IF_ERROR(PrepareDataDir(data_dir));
  image::StoreOptions options;
  options.root = ImageStoreDir(data_dir);
  if (!global.default_registry.empty()) {
    options.reference.default_registry = global.default_registry;
  } else if (const char* env =
                 std::getenv("COMET_DEFAULT_REGISTRY");  // NOLINT(concurrency-mt-unsafe)
             env != nullptr && env[0] != '\0') {
    options.reference.default_registry = env;
  }
  return image::Store::Open(std::move(options));
}

Result<image::registry::RegistryOptions> RegistryOptionsFrom(const RegistryFlags& flags) {
  image::registry::RegistryOptions options;
  options.insecure_registries = flags.insecure_registries;
  options.auth_file = flags.authfile;
  if (!flags.cert_dir.empty()) {
    options.certs_dirs.insert(options.certs_dirs.begin(), flags.cert_dir);
  }
  if (!flags.creds.empty()) {
    const size_t colon = flags.creds.find(':');
    if (colon == 0) {
      return Err(Error::Invalid("--creds: missing user name"));
    }
    image::registry::Credentials credentials;
    credentials.username = flags.creds.substr(0, colon);
    if (colon != std::string::npos) {
      credentials.password = flags.creds.substr(colon + 1);
    }
    options.credentials = std::move(credentials);
  }
  options.user_agent = "comet/" COMET_VERSION;
  return options;
}

void RecordImageImported(const image::Store& store, const image::ImageRecord& image) {
  std::vector<std::pair<std::string, std::string>> data;
  if (!image.names.empty()) {
    data.emplace_back("name", image.names.front());
  }
  RecordEvent(DataDirOf(store.root()), pod::EventType::kImageImported,
              image.manifest_digest.ToString(), std::move(data));
}

Result<image::ImageRecord> PullImage(image::Store& store, const image::Reference& ref,
                                     const RegistryFlags& flags, bool quiet) {
  image::registry::PullOptions options;
  ASSIGN_OR_RETURN(options.registry, RegistryOptionsFrom(flags));
  if (flags.platform.empty()) {
    options.platform = image::HostPlatform();
  } else {
    ASSIGN_OR_RETURN(options.platform, image::ParsePlatform(flags.platform));
  }
  options.parallel_downloads = flags.jobs;
  options.unpack_layers = !flags.no_unpack;
  options.unpack = image::DefaultUnpackOptions();
  const bool show = !quiet && ::isatty(STDERR_FILENO) == 1;
  PullProgressBar bar(STDERR_FILENO, ref.ToString(), show);
  options.progress = [&bar](const image::registry::PullEvent& event) { bar.OnEvent(event); };
  auto pulled = image::registry::Pull(store, ref, options);
  bar.Finish();
  if (pulled) {
    RecordImageImported(store, *pulled);
  }
  return pulled;
}

}  // namespace comet::cli
