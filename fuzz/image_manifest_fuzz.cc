// libFuzzer target for manifests, indexes and image configs from registries and archives:
// parsing hostile JSON must never crash, and whatever parses must print and re-parse to the same
// value and the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "image/manifest.h"

namespace {

// Serialize -> parse -> serialize must be a fixed point equal to the first parse.
template <class T, class ParseFn, class SerializeFn>
void CheckRoundTrip(const T& value, ParseFn parse, SerializeFn serialize) {
  std::string json = serialize(value);
  auto again = parse(json);
  if (!again || !(*again == value) || serialize(*again) != json) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)comet::image::DetectDocumentKind(text);
  (void)comet::image::DetectDocumentKind(text, comet::image::media_type::kOciIndex);
  if (auto manifest = comet::image::ParseManifest(text)) {
    CheckRoundTrip(*manifest, comet::image::ParseManifest, comet::image::SerializeManifest);
    for (const auto& layer : manifest->layers) {
      (void)comet::image::LayerCompression(layer.media_type);
    }
  }
  if (auto index = comet::image::ParseIndex(text)) {
    CheckRoundTrip(*index, comet::image::ParseIndex, comet::image::SerializeIndex);
    (void)comet::image::SelectPlatform(*index, comet::image::HostPlatform());
    for (const auto& entry : index->manifests) {
      if (entry.platform) {
        (void)comet::image::SelectPlatform(*index, *entry.platform);
      }
    }
  }
  if (auto config = comet::image::ParseImageConfig(text)) {
    CheckRoundTrip(*config, comet::image::ParseImageConfig, comet::image::SerializeImageConfig);
  }
  if (auto platform = comet::image::ParsePlatform(text)) {
    auto again = comet::image::ParsePlatform(platform->ToString());
    if (!again || !(*again == *platform)) {
      __builtin_trap();
    }
  }
  return 0;
}
