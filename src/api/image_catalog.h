// The images of one comet image store as v1alpha.Image messages, for the api-service. Reads the
// store's metadata without taking its lock (every file it reads is replaced by rename), so it
// works read-only, as an unprivileged member of the store's group. Thread-safe.
#ifndef COMET_API_IMAGE_CATALOG_H_
#define COMET_API_IMAGE_CATALOG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "v1alpha/api.pb.h"

namespace comet::api {

using ImageFilters = google::protobuf::RepeatedPtrField<v1alpha::ImageFilter>;

class ImageCatalog {
 public:
  // `store_root`: <data dir>/images.
  [[nodiscard]] static Result<std::unique_ptr<ImageCatalog>> Open(const std::string& store_root);
  virtual ~ImageCatalog() = default;

  // One Image per image (rkt: one per ACI, so that summing `size` counts each image once), in
  // index order. id is the manifest digest ("sha256:<hex>"); name and version are the image's
  // first name that the filters match (with no filter, its first name; none for a nameless
  // image): filters are tried on each (image, name) as `comet image list` shows them.
  // import_timestamp in Unix seconds, base_format OCI, labels from the image config, annotations
  // from the manifest; manifest bytes with `detail`.
  [[nodiscard]] virtual Result<std::vector<v1alpha::Image>> List(const ImageFilters& filters,
                                                                 bool detail) = 0;
  // By id (full digest or unique hex prefix: named by its first name) or by name (named so),
  // with detail; NotFound when unknown.
  [[nodiscard]] virtual Result<v1alpha::Image> Inspect(std::string_view id) = 0;
};

}  // namespace comet::api

#endif  // COMET_API_IMAGE_CATALOG_H_
