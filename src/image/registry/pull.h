// Pulling an image from a registry into the store: resolve the reference, pick the platform
// from an index, download config and layers concurrently (resuming interrupted downloads),
// verify every blob, unpack the layer trees, then name the image. Two pulls of one image, in
// threads or processes, share the work through the store's per-blob and per-layer locks.
#ifndef COMET_IMAGE_REGISTRY_PULL_H_
#define COMET_IMAGE_REGISTRY_PULL_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry/client.h"
#include "image/store.h"
#include "image/unpack.h"

namespace comet::image::registry {

// Progress of one pull, reported from the pulling threads (the callback must be thread-safe).
struct PullEvent {
  enum class Kind {
    kResolved,      // manifest resolved: `total` = sum of layer and config sizes
    kBlobStarted,   // digest/size of a blob about to download (offset = bytes already present)
    kBlobProgress,  // `done` bytes of `digest` received so far
    kBlobDone,      // downloaded and verified (or already present)
    kLayerUnpacked,
    kDone,
  };
  Kind kind = Kind::kResolved;
  std::string digest;  // "sha256:..." of the blob, empty for whole-pull events
  uint64_t done = 0;
  uint64_t total = 0;
};
using PullProgressFn = std::function<void(const PullEvent&)>;

struct PullOptions {
  RegistryOptions registry;
  Platform platform = HostPlatform();
  int parallel_downloads = 3;
  // How layer trees are unpacked (root: ownership kept; rootless: see UnpackOptions).
  UnpackOptions unpack;
  // Only fetch and verify the blobs; do not unpack layer trees (`comet fetch --no-unpack`).
  bool unpack_layers = true;
  PullProgressFn progress;
};

// Pulls `ref` into `store` and returns the stored image (named `ref` unless it was by digest
// only). Already-present blobs and layers are not downloaded again.
[[nodiscard]] Result<ImageRecord> Pull(Store& store, const Reference& ref,
                                       const PullOptions& options);

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_PULL_H_
