// Read-only access to an image store for processes that must not write it: the api-service,
// which may run as an unprivileged member of the store's group. Takes no lock and creates
// nothing (Store::Open and Store::ListImages create and lock the store's `lock` file). That is
// safe because index.json and images/<hex>.json are only ever replaced by rename(2), metadata is
// written before index.json names an image and removed after it stops naming it, and blobs are
// immutable and verified against their digest. Thread-safe (no state).
#ifndef COMET_IMAGE_STORE_READER_H_
#define COMET_IMAGE_STORE_READER_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "image/store.h"

namespace comet::image {

// The images of the store at `root`, as Store::ListImages returns them (index order), read
// without the store lock: a snapshot that may miss a change made meanwhile.
[[nodiscard]] Result<std::vector<ImageRecord>> ListImagesUnlocked(const std::string& root);

// A small blob (a manifest, a config) of the store at `root`, at most `limit` bytes, its digest
// verified; NotFound when the store has no such blob.
[[nodiscard]] Result<std::string> ReadBlobUnlocked(const std::string& root, const Digest& digest,
                                                   size_t limit);

}  // namespace comet::image

#endif  // COMET_IMAGE_STORE_READER_H_
