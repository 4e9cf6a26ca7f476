// Test images: OCI image layouts written by hand (uncompressed tar layers from file lists or
// directory trees, hand-written JSON), pushed to a RegistryServer with skopeo (gzip or zstd,
// OCI or Docker schema 2, single images or multi-arch indexes). Not thread-safe.
#ifndef COMET_TESTING_TEST_IMAGES_H_
#define COMET_TESTING_TEST_IMAGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "testing/registry_server.h"

namespace comet::testing {

struct LayerFile {
  std::string path;     // "etc/hello" (relative)
  std::string content;  // for regular files
  uint32_t mode = 0644;
  enum class Kind { kFile, kDir, kSymlink } kind = Kind::kFile;
  std::string target;  // symlinks
  uint32_t uid = 0;    // owner in the tar
  uint32_t gid = 0;
};

struct TestLayer {
  std::vector<LayerFile> files;
  // Alternatively a directory tree, tarred with GNU tar (sorted names, mtime 0, owner 0).
  std::string dir;
};

struct ImageSpec {
  std::vector<TestLayer> layers;  // lowest first
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::vector<std::string> cmd = {"/bin/sh"};
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
};

// A blob written to a layout.
struct LayoutBlob {
  std::string media_type;
  image::Digest digest;
  int64_t size = 0;
};

enum class LayoutCompression { kNone, kGzip, kZstd };

// Creates the layout (oci-layout, blobs/, index.json) when missing and writes the image's layer
// (compressed as asked), config and manifest blobs. Returns the manifest's descriptor (not yet
// tagged).
[[nodiscard]] Result<LayoutBlob> WriteImage(
    const std::string& layout, const ImageSpec& spec,
    LayoutCompression compression = LayoutCompression::kNone);
// Writes an OCI index of `manifests` (platforms from `specs`, in order) to the layout.
[[nodiscard]] Result<LayoutBlob> WriteIndex(const std::string& layout,
                                            const std::vector<LayoutBlob>& manifests,
                                            const std::vector<ImageSpec>& specs);
// Adds (or replaces) `tag` in the layout's index.json, pointing at `blob`.
[[nodiscard]] Status TagInLayout(const std::string& layout, const LayoutBlob& blob,
                                 const std::string& tag);

enum class PushFormat { kOci, kDockerV2S2 };
enum class PushCompression { kGzip, kZstd };
struct PushOptions {
  PushFormat format = PushFormat::kOci;
  // kGzip: skopeo compresses the layout's layers. kZstd: the layout's layers are zstd already
  // (PushImage writes them so) and are pushed as they are, with --preserve-digests: skopeo's
  // blob-info cache would otherwise reuse a gzip copy of the same layer already in the registry.
  PushCompression compression = PushCompression::kGzip;
};

// skopeo copy oci:<layout>:<tag> docker://<server>/<repo>:<tag> (--all: indexes too), with the
// server's first user's credentials when it has users. Returns the pushed manifest's digest.
// With kZstd, checks that the pushed manifest really lists zstd layers (kZstd with kDockerV2S2
// is an error: Docker schema 2 has no zstd).
[[nodiscard]] Result<image::Digest> PushLayout(const RegistryServer& server,
                                               const std::string& layout, const std::string& tag,
                                               const std::string& repo,
                                               const PushOptions& options = {});

// WriteImage + TagInLayout + PushLayout through a temporary layout; returns the pushed digest.
[[nodiscard]] Result<image::Digest> PushImage(const RegistryServer& server, const std::string& repo,
                                              const std::string& tag, const ImageSpec& spec,
                                              const PushOptions& options = {});
// A multi-arch index of `specs` (e.g. amd64 and arm64) pushed with --all; returns the index's
// digest.
[[nodiscard]] Result<image::Digest> PushMultiArchImage(const RegistryServer& server,
                                                       const std::string& repo,
                                                       const std::string& tag,
                                                       const std::vector<ImageSpec>& specs,
                                                       const PushOptions& options = {});

// A small image: one layer with etc/hello ("hello from <architecture>\n") and a bin/ dir.
[[nodiscard]] ImageSpec SmallImageSpec(const std::string& architecture = "amd64");
// `layers` layers of `megabytes` MiB each of deterministic, incompressible data (xorshift
// from `seed`), for benchmarks and interrupted-download tests.
[[nodiscard]] ImageSpec BigImageSpec(int layers, int megabytes, uint64_t seed = 1);
// `size` deterministic pseudo-random bytes.
[[nodiscard]] std::string PseudoRandomBytes(size_t size, uint64_t seed);

// skopeo inspect --raw of docker://<server>/<repo>:<tag or digest> (the manifest as stored).
[[nodiscard]] Result<std::string> InspectRaw(const RegistryServer& server, const std::string& repo,
                                             const std::string& tag_or_digest);

}  // namespace comet::testing

#endif  // COMET_TESTING_TEST_IMAGES_H_
