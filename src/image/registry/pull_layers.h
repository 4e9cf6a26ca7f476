// Internal to pull.cc: downloading an image's layers on a small thread pool, with resume and
// retries, unpacking each layer tree as soon as its blob is in. Not part of the public API.
// Thread-safe: each call has its own state; the store's per-blob and per-layer locks let
// concurrent pulls (threads or processes) share the work.
#ifndef COMET_IMAGE_REGISTRY_PULL_LAYERS_H_
#define COMET_IMAGE_REGISTRY_PULL_LAYERS_H_

#include "base/result.h"
#include "image/manifest.h"
#include "image/registry/client.h"
#include "image/registry/pull.h"
#include "image/store.h"

namespace comet::image::registry {

// Rejects, before anything is downloaded, layers a pull cannot complete: foreign layers whose
// `urls` name other hosts, and (when `unpack`) layers of unknown media types.
[[nodiscard]] Status CheckLayersFetchable(const Manifest& manifest, bool unpack);

// Downloads the layer blobs of `manifest` that the store lacks (config.diff_ids[i] is the diff
// ID of manifest.layers[i]) and, when options.unpack_layers, makes sure their trees exist.
// The first failure cancels the other transfers; its error names the layer.
[[nodiscard]] Status PullLayers(Store& store, RegistryClient& client, const Manifest& manifest,
                                const ImageConfig& config, const PullOptions& options);

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_PULL_LAYERS_H_
