// Where a registry is reached: the host for its URLs and the schemes to try, in order.
// Pure functions, thread-safe.
#ifndef COMET_IMAGE_REGISTRY_ENDPOINT_H_
#define COMET_IMAGE_REGISTRY_ENDPOINT_H_

#include <string>
#include <string_view>
#include <vector>

namespace comet::image::registry {

// The authority of a registry's API: "docker.io" (and "index.docker.io") is served by
// "registry-1.docker.io"; any other name is its own.
[[nodiscard]] std::string RegistryHost(std::string_view registry);

// The schemes to try for `registry`: "https" only, unless it is a loopback registry or listed
// in `insecure` ("host[:port]"), where plain "http" follows when the TLS handshake fails
// (a plain-HTTP server). Insecure registries also skip certificate verification.
[[nodiscard]] std::vector<std::string> RegistrySchemes(std::string_view registry,
                                                       const std::vector<std::string>& insecure);

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_ENDPOINT_H_
