// The runtime-spec "features" document (features.md) that `comet-runtime features` prints, so
// that engines can ask what this runtime supports. Thread-safe.
#ifndef COMET_OCI_FEATURES_H_
#define COMET_OCI_FEATURES_H_

#include <map>
#include <string>

namespace comet::oci {

struct FeaturesOptions {
  // Added to "annotations", e.g. "io.github.seccomp.libseccomp.version" and our own version;
  // the caller knows them, this layer links neither libseccomp nor the version stamp.
  std::map<std::string, std::string> annotations;
  // Whether the runtime can do idmapped mounts (mounts[].uidMappings) on this build.
  bool idmap_mounts = false;
};

// Pretty-printed JSON.
std::string FeaturesJson(const FeaturesOptions& options = {});

}  // namespace comet::oci

#endif  // COMET_OCI_FEATURES_H_
