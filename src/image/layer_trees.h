// Unpacking an image's layer blobs into the store's shared layer trees (overlay format), once
// per diff ID. Used by pulls and imports. Thread- and process-safe through Store::EnsureLayer.
#ifndef COMET_IMAGE_LAYER_TREES_H_
#define COMET_IMAGE_LAYER_TREES_H_

#include "base/result.h"
#include "image/manifest.h"
#include "image/store.h"
#include "image/unpack.h"

namespace comet::image {

// Makes sure the tree for `layer` (whose uncompressed digest must be `diff_id`) exists: unpacks
// the stored blob when it does not. The blob must be in the store.
[[nodiscard]] Status EnsureLayerTree(Store& store, const Descriptor& layer, const Digest& diff_id,
                                     const UnpackOptions& options);

// Like EnsureLayerTree; returns true when this call unpacked the blob (and so checked that it
// decompresses to `diff_id`), false when the tree existed already (the blob was not read).
[[nodiscard]] Result<bool> EnsureLayerTreeChecked(Store& store, const Descriptor& layer,
                                                  const Digest& diff_id,
                                                  const UnpackOptions& options);

// All layers of an image (manifest.layers[i] with config.diff_ids[i]); their counts must match.
[[nodiscard]] Status EnsureImageLayers(Store& store, const Manifest& manifest,
                                       const ImageConfig& config, const UnpackOptions& options);

// Unpack options for this process: as root, ownership and devices kept, "trusted." overlay
// xattrs; rootless (not root in the initial user namespace), ownership and devices dropped and
// "user." xattrs (overlay mounted with userxattr).
[[nodiscard]] UnpackOptions DefaultUnpackOptions();

}  // namespace comet::image

#endif  // COMET_IMAGE_LAYER_TREES_H_
