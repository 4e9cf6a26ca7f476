// Moving images between the store and files: import from an OCI image layout (directory or tar),
// a `docker save` archive, a plain rootfs tarball, or an appc ACI (rkt's format); export to an
// OCI layout (directory or tar) and a docker archive. Every blob read from a file is verified
// against its digest and size before the image is named.
#ifndef COMET_IMAGE_TRANSFER_H_
#define COMET_IMAGE_TRANSFER_H_

#include <string>
#include <vector>

#include "base/result.h"
#include "image/reference.h"
#include "image/store.h"
#include "image/unpack.h"

namespace comet::image {

enum class ArchiveFormat {
  kDetect,     // from the content: a directory with oci-layout, a tar holding oci-layout,
               // manifest.json (docker save), manifest + rootfs/ (ACI), else a rootfs tarball
  kOciLayout,  // directory or tar
  kDockerArchive,
  kRootfsTarball,
  kAci,
};

struct ImportOptions {
  ArchiveFormat format = ArchiveFormat::kDetect;
  // Names for the imported images. Empty: the names the archive carries (OCI ref.name
  // annotations, docker RepoTags, the ACI name:version label); a rootfs tarball then stays
  // nameless.
  std::vector<Reference> names;
  // For layouts holding several images: which one ("name" or "tag" as in its ref.name).
  std::string select;
  Platform platform = HostPlatform();  // for indexes, and for rootfs tarballs/ACIs
  bool unpack_layers = true;
  UnpackOptions unpack;
};

// Imports `path` (file or directory) into `store`; returns the images added.
[[nodiscard]] Result<std::vector<ImageRecord>> Import(Store& store, const std::string& path,
                                                      const ImportOptions& options);

enum class ExportFormat { kOciLayoutDir, kOciArchive, kDockerArchive };

struct ExportOptions {
  ExportFormat format = ExportFormat::kOciArchive;
  // Name written into the archive (OCI ref.name / docker RepoTags); default: the image's names.
  std::vector<std::string> names;
};

// Writes `image` to `path` (a new file or directory; an existing one is an error), atomically:
// a failure leaves nothing at `path`.
[[nodiscard]] Status Export(const Store& store, const ImageRecord& image, const std::string& path,
                            const ExportOptions& options);

// Writes the image's flattened root filesystem into `dest` (an empty or missing directory):
// layers applied in order with whiteouts, from the blobs (extract) — used by `image extract`
// and `image render`.
[[nodiscard]] Status ExtractRootfs(const Store& store, const ImageRecord& image,
                                   const std::string& dest, const UnpackOptions& options);

}  // namespace comet::image

#endif  // COMET_IMAGE_TRANSFER_H_
