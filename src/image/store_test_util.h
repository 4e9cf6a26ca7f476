// Helpers for the image store's tests: a store in a temp dir and tiny images built from an
// in-memory tar layer, a config and a manifest. Not thread-safe.
#ifndef COMET_IMAGE_STORE_TEST_UTIL_H_
#define COMET_IMAGE_STORE_TEST_UTIL_H_

#include <string>
#include <string_view>

#include "image/store.h"
#include "os/temp_dir.h"

namespace comet::image::testing {

// A ustar stream holding one regular file `name` with `content`.
std::string OneFileTar(std::string_view name, std::string_view content);

// The layer and config of the test image made from `seed`.
std::string TestLayerTar(std::string_view seed);
std::string TestConfigJson(std::string_view seed);

struct TestImage {
  Digest manifest;
  Digest config;
  Digest layer;  // uncompressed tar: the blob digest is also the diff ID
  std::string layer_tar;
};

// Stores a one-layer image whose content depends on `seed` (different seeds, different
// digests) and, unless `register_it` is false, registers it under `names`.
TestImage PutTestImage(Store& store, std::string_view seed,
                       const std::vector<std::string>& names = {}, bool register_it = true);

// Unpacks the test image's layer into its tree (a fake unpack: writes the one file).
void EnsureTestLayer(Store& store, const TestImage& image);

// A temp dir and a store at <dir>/store.
struct TestStore {
  os::TempDir dir;
  Store store;
};
TestStore MakeTestStore();

}  // namespace comet::image::testing

#endif  // COMET_IMAGE_STORE_TEST_UTIL_H_
