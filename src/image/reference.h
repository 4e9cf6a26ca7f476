// Image references as docker, podman and containerd parse them: [registry/]repository[:tag]
// [@digest], with short names completed from a configurable default registry. Pure functions.
#ifndef COMET_IMAGE_REFERENCE_H_
#define COMET_IMAGE_REFERENCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/digest.h"

namespace comet::image {

inline constexpr std::string_view kDockerHub = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000", "quay.io"
  std::string repository;  // "library/busybox", lowercase path components
  std::string tag;         // "latest" when neither tag nor digest was given; empty with digest only
  std::optional<Digest> digest;

  // "registry/repository".
  [[nodiscard]] std::string Name() const;
  // The canonical form: "registry/repository[:tag][@digest]".
  [[nodiscard]] std::string ToString() const;
  // What to ask the registry for: the digest when there is one, else the tag.
  [[nodiscard]] std::string TagOrDigest() const;

  bool operator==(const Reference&) const = default;
};

struct ReferenceOptions {
  // Registry for names without one ("busybox", "org/app"). On docker.io a one-component name
  // gets the "library/" prefix, as docker does.
  std::string default_registry = std::string(kDockerHub);
};

// Parses and normalizes `text`. The first path component is a registry when it contains '.' or
// ':' or is "localhost" (docker's rule). Errors name the part that is wrong (uppercase
// repository, bad tag, over-long name, bad digest).
[[nodiscard]] Result<Reference> ParseReference(std::string_view text,
                                               const ReferenceOptions& options = {});

// True for registries on the loopback interface: "localhost[:port]", "127.x.y.z[:port]",
// "[::1][:port]". Plain HTTP is allowed for those only (and for --insecure-registry ones).
[[nodiscard]] bool IsLoopbackRegistry(std::string_view registry);

}  // namespace comet::image

#endif  // COMET_IMAGE_REFERENCE_H_
