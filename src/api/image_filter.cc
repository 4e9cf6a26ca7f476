// rkt's ImageFilter matching (see image_filter.h).
#include "api/image_filter.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::api {
namespace {

using KeyValues = google::protobuf::RepeatedPtrField<v1alpha::KeyValue>;

template <class Values, class Pred>
bool AnyOf(const Values& values, Pred pred) {
  return std::any_of(values.begin(), values.end(), pred);
}

// Every key/value of `want` is in `have`.
bool HasAll(const KeyValues& have, const KeyValues& want) {
  return std::all_of(want.begin(), want.end(), [&](const v1alpha::KeyValue& w) {
    return AnyOf(have, [&](const v1alpha::KeyValue& h) {
      return h.key() == w.key() && h.value() == w.value();
    });
  });
}

bool MatchesBaseName(const v1alpha::Image& image, const std::string& base) {
  const std::string_view repository = RepositoryOf(image.name());
  const size_t slash = repository.rfind('/');
  const std::string_view last =
      slash == std::string_view::npos ? repository : repository.substr(slash + 1);
  return !base.empty() && (base == repository || base == last);
}

bool MatchesNames(const v1alpha::Image& image, const v1alpha::ImageFilter& filter) {
  const std::string& name = image.name();
  if (filter.prefixes_size() > 0 && !AnyOf(filter.prefixes(), [&](const std::string& prefix) {
        return StartsWith(name, prefix);
      })) {
    return false;
  }
  if (filter.base_names_size() > 0 && !AnyOf(filter.base_names(), [&](const std::string& base) {
        return MatchesBaseName(image, base);
      })) {
    return false;
  }
  if (filter.keywords_size() > 0 && !AnyOf(filter.keywords(), [&](const std::string& keyword) {
        return name.find(keyword) != std::string::npos;
      })) {
    return false;
  }
  if (filter.full_names_size() > 0) {
    // rkt compared the name alone (an appc name has no version); "name:tag" also matches.
    const std::string full = FullName(image);
    return AnyOf(filter.full_names(),
                 [&](const std::string& want) { return want == name || want == full; });
  }
  return true;
}

}  // namespace

std::string_view RepositoryOf(std::string_view name) {
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    return name;
  }
  const std::string_view first = name.substr(0, slash);
  const bool registry = first.find('.') != std::string_view::npos ||
                        first.find(':') != std::string_view::npos || first == "localhost";
  return registry ? name.substr(slash + 1) : name;
}

std::string FullName(const v1alpha::Image& image) {
  return image.version().empty() ? image.name() : image.name() + ":" + image.version();
}

bool ImageMatchesFilter(const v1alpha::Image& image, const v1alpha::ImageFilter& filter) {
  // Exact, as rkt's satisfiesImageFilter (a set of ids): a prefix is InspectImage's business.
  if (filter.ids_size() > 0 &&
      !AnyOf(filter.ids(), [&](const std::string& id) { return id == image.id(); })) {
    return false;
  }
  if (!MatchesNames(image, filter)) {
    return false;
  }
  if (filter.imported_after() != 0 && image.import_timestamp() <= filter.imported_after()) {
    return false;
  }
  if (filter.imported_before() != 0 && image.import_timestamp() >= filter.imported_before()) {
    return false;
  }
  return HasAll(image.labels(), filter.labels()) &&
         HasAll(image.annotations(), filter.annotations());
}

Status ValidateImageFilters(const ImageFilters& filters) {
  if (filters.size() > kMaxImageFilterValues) {
    return Err(Error::Invalid(
        fmt::format("filters: more than {} filters in one request", kMaxImageFilterValues)));
  }
  for (int i = 0; i < filters.size(); ++i) {
    const v1alpha::ImageFilter& filter = filters.Get(i);
    const int most = std::max({filter.ids_size(), filter.prefixes_size(), filter.base_names_size(),
                               filter.keywords_size(), filter.labels_size(),
                               filter.annotations_size(), filter.full_names_size()});
    if (most > kMaxImageFilterValues) {
      return Err(Error::Invalid(
          fmt::format("filters[{}]: more than {} values in one field", i, kMaxImageFilterValues)));
    }
  }
  return Ok();
}

bool ImageMatchesAny(const v1alpha::Image& image, const ImageFilters& filters) {
  return filters.empty() || AnyOf(filters, [&](const v1alpha::ImageFilter& filter) {
           return ImageMatchesFilter(image, filter);
         });
}

}  // namespace comet::api
