// Manifests and indexes back to compact JSON, with the image-spec's field names and order; empty
// optional fields are left out. Pure functions; thread-safe.
#include <utility>

#include "image/manifest.h"
#include "image/manifest_json.h"

namespace comet::image {
namespace {

using internal::OrderedJson;

OrderedJson PlatformToJson(const Platform& platform) {
  OrderedJson out = {{"architecture", platform.architecture}, {"os", platform.os}};
  if (!platform.os_version.empty()) {
    out["os.version"] = platform.os_version;
  }
  if (!platform.os_features.empty()) {
    out["os.features"] = platform.os_features;
  }
  if (!platform.variant.empty()) {
    out["variant"] = platform.variant;
  }
  return out;
}

OrderedJson DescriptorToJson(const Descriptor& descriptor) {
  OrderedJson out = {{"mediaType", descriptor.media_type},
                     {"digest", descriptor.digest.ToString()},
                     {"size", descriptor.size}};
  if (!descriptor.urls.empty()) {
    out["urls"] = descriptor.urls;
  }
  if (!descriptor.annotations.empty()) {
    out["annotations"] = descriptor.annotations;
  }
  if (descriptor.platform) {
    out["platform"] = PlatformToJson(*descriptor.platform);
  }
  return out;
}

OrderedJson DescriptorsToJson(const std::vector<Descriptor>& descriptors) {
  OrderedJson out = OrderedJson::array();
  for (const auto& descriptor : descriptors) {
    out.push_back(DescriptorToJson(descriptor));
  }
  return out;
}

}  // namespace

std::string SerializeManifest(const Manifest& manifest) {
  OrderedJson out = {{"schemaVersion", manifest.schema_version}};
  if (!manifest.media_type.empty()) {
    out["mediaType"] = manifest.media_type;
  }
  out["config"] = DescriptorToJson(manifest.config);
  out["layers"] = DescriptorsToJson(manifest.layers);
  if (!manifest.annotations.empty()) {
    out["annotations"] = manifest.annotations;
  }
  return internal::Dump(out);
}

std::string SerializeIndex(const Index& index) {
  OrderedJson out = {{"schemaVersion", index.schema_version}};
  if (!index.media_type.empty()) {
    out["mediaType"] = index.media_type;
  }
  out["manifests"] = DescriptorsToJson(index.manifests);
  if (!index.annotations.empty()) {
    out["annotations"] = index.annotations;
  }
  return internal::Dump(out);
}

}  // namespace comet::image
