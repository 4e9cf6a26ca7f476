// OCI image-spec and Docker schema 2 documents: manifests, indexes (manifest lists), image
// configs and descriptors, parsed from untrusted JSON with limits, and written back as JSON.
// Pure functions; the structs are plain values.
#ifndef COMET_IMAGE_MANIFEST_H_
#define COMET_IMAGE_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"

namespace comet::image {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

// Size limits for documents read from registries and archives (a hostile registry must not make
// us buffer gigabytes). Blobs themselves are streamed, never buffered.
inline constexpr size_t kMaxManifestBytes = 4U << 20U;  // as containerd and the distribution spec
inline constexpr size_t kMaxConfigBytes = 16U << 20U;
inline constexpr size_t kMaxLayers = 500;  // overlayfs stacks at most 500 lower layers

enum class Compression { kNone, kGzip, kZstd };

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH names: "amd64", "arm64", "arm", "386", "ppc64le", ...
  std::string variant;       // "v7", "v8"; empty when none
  std::string os_version;
  std::vector<std::string> os_features;

  // "os/arch[/variant]".
  [[nodiscard]] std::string ToString() const;
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;  // >= 0, checked
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;

  bool operator==(const Descriptor&) const = default;
};

struct Manifest {
  int schema_version = 2;
  std::string media_type;  // may be empty in OCI manifests
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;

  bool operator==(const Manifest&) const = default;
};

struct Index {
  int schema_version = 2;
  std::string media_type;  // may be empty in OCI indexes (e.g. an image layout's index.json)
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;

  bool operator==(const Index&) const = default;
};

// The parts of an image config that comet uses (OCI image-spec config.md; Docker's is a
// superset with the same field names).
struct ImageConfig {
  std::string created;  // RFC 3339, may be empty
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  struct Process {
    std::string user;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;  // "80/tcp"
    std::vector<std::string> volumes;        // "/data"
    std::string stop_signal;

    bool operator==(const Process&) const = default;
  } config;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, lowest layer first

  bool operator==(const ImageConfig&) const = default;
};

// Whether a document is a single-image manifest or an index, from the registry's Content-Type
// (or the descriptor's mediaType) when given, else from the JSON's own "mediaType" field and
// shape ("manifests" vs "layers"). Schema 1 manifests are rejected with a clear error.
enum class DocumentKind { kManifest, kIndex };
[[nodiscard]] Result<DocumentKind> DetectDocumentKind(std::string_view json,
                                                      std::string_view media_type_hint = {});

// Parsers: strict about types and digests, tolerant of unknown fields; errors name the field
// ("layers[2].digest: ..."). Inputs above the size limits above are rejected.
[[nodiscard]] Result<Manifest> ParseManifest(std::string_view json);
[[nodiscard]] Result<Index> ParseIndex(std::string_view json);
[[nodiscard]] Result<ImageConfig> ParseImageConfig(std::string_view json);

// Writers (compact JSON; OCI field names; empty optional fields omitted). ParseX(SerializeX(v))
// == v for every value the parsers produce.
[[nodiscard]] std::string SerializeManifest(const Manifest& manifest);
[[nodiscard]] std::string SerializeIndex(const Index& index);
// Writes a complete OCI config (architecture, os, config, rootfs {type: layers, diff_ids}).
[[nodiscard]] std::string SerializeImageConfig(const ImageConfig& config);

// The compression of a layer media type; unknown or non-layer types are an error.
[[nodiscard]] Result<Compression> LayerCompression(std::string_view media_type);

// The platform this binary runs on (linux/amd64 here; arm variants from the build target).
[[nodiscard]] Platform HostPlatform();
// Parses "os/arch[/variant]" (as --platform takes it); "arch" alone means linux/arch.
[[nodiscard]] Result<Platform> ParsePlatform(std::string_view text);
// Index of the manifest in `index` that best matches `want` (exact variant first, then a
// compatible one: arm64 with or without v8, amd64 without variant), or nullopt.
[[nodiscard]] std::optional<size_t> SelectPlatform(const Index& index, const Platform& want);

}  // namespace comet::image

#endif  // COMET_IMAGE_MANIFEST_H_
