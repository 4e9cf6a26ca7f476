// Registry endpoints: see endpoint.h. Pure functions, thread-safe.
#include "image/registry/endpoint.h"

#include <algorithm>

#include "image/reference.h"

namespace comet::image::registry {

std::string RegistryHost(std::string_view registry) {
  if (registry == kDockerHub || registry == "index.docker.io") {
    return "registry-1.docker.io";
  }
  return std::string(registry);
}

std::vector<std::string> RegistrySchemes(std::string_view registry,
                                         const std::vector<std::string>& insecure) {
  bool plain_ok = IsLoopbackRegistry(registry) ||
                  std::find(insecure.begin(), insecure.end(), registry) != insecure.end();
  if (plain_ok) {
    return {"https", "http"};
  }
  return {"https"};
}

}  // namespace comet::image::registry
