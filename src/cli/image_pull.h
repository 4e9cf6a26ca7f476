// Opening comet's image store and pulling one image from a registry, shared by the image
// commands (`fetch`, `image pull`) and stage0 (`run`, `prepare`, `app add`). Not thread-safe
// (progress goes to this process's stderr).
#ifndef COMET_CLI_IMAGE_PULL_H_
#define COMET_CLI_IMAGE_PULL_H_

#include <string>

#include "base/result.h"
#include "cli/comet_command_line.h"
#include "image/reference.h"
#include "image/registry/client.h"
#include "image/store.h"

namespace comet::cli {

// The image store of `data_dir` (<data dir>/images), with short names completed from
// --default-registry, else $COMET_DEFAULT_REGISTRY, else docker.io.
[[nodiscard]] Result<image::Store> OpenImageStore(const std::string& data_dir,
                                                  const CometGlobalFlags& global);

// Registry access options from the command's flags (credentials, certs, insecure registries).
[[nodiscard]] Result<image::registry::RegistryOptions> RegistryOptionsFrom(
    const RegistryFlags& flags);

// Records image-imported for `image` in the event log of the store's data dir.
void RecordImageImported(const image::Store& store, const image::ImageRecord& image);

// Pulls `ref` into `store` with layers unpacked for this process (root or rootless), showing a
// progress bar on stderr when it is a terminal and `quiet` is false.
[[nodiscard]] Result<image::ImageRecord> PullImage(image::Store& store, const image::Reference& ref,
                                                   const RegistryFlags& flags, bool quiet);

}  // namespace comet::cli

#endif  // COMET_CLI_IMAGE_PULL_H_
