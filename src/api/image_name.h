// How the api-service splits an image reference into v1alpha.Image's name and version, for the
// images of the store and for the apps of a pod alike. Thread-safe (pure functions).
#ifndef COMET_API_IMAGE_NAME_H_
#define COMET_API_IMAGE_NAME_H_

#include <string>
#include <string_view>

namespace comet::api {

// ImageFormat.version of every image: the OCI image-spec (and image-layout) version comet's
// store follows; Docker schema 2 manifests are stored as they came and reported the same way.
inline constexpr const char* kOciFormatVersion = "1.0.0";

struct ImageName {
  std::string name;     // "docker.io/library/busybox": the reference without tag and digest
  std::string version;  // "latest": the tag, empty when there is none
};

// "localhost:5000/a/b:1@sha256:..." -> {"localhost:5000/a/b", "1"}. The tag is what follows the
// last ':' after the last '/', so that a registry port is never taken for one.
[[nodiscard]] ImageName SplitImageName(std::string_view reference);

}  // namespace comet::api

#endif  // COMET_API_IMAGE_NAME_H_
