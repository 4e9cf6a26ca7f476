// Splitting image references into name and tag (see image_name.h).
#include "api/image_name.h"

namespace comet::api {

ImageName SplitImageName(std::string_view reference) {
  if (const size_t at = reference.find('@'); at != std::string_view::npos) {
    reference = reference.substr(0, at);
  }
  const size_t slash = reference.rfind('/');
  const size_t colon = reference.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(reference.substr(0, colon)), std::string(reference.substr(colon + 1))};
  }
  return {std::string(reference), {}};
}

}  // namespace comet::api
