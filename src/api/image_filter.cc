// rkt's ImageFilter matching (see image_filter.h).
#include "api/image_filter.h"

#include <algorithm>

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

bool MatchesId(const v1alpha::Image& image, const std::string& id) {
  if (id.empty()) {
    return false;
  }
  if (StartsWith(image.id(), id)) {
    return true;
  }
  const size_t colon = image.id().find(':');
  return colon != std::string::npos &&
         StartsWith(std::string_view(image.id()).substr(colon + 1), id);
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
    const std::string full = FullName(image);
    return AnyOf(filter.full_names(), [&](const std::string& want) { return want == full; });
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
  if (filter.ids_size() > 0 &&
      !AnyOf(filter.ids(), [&](const std::string& id) { return MatchesId(image, id); })) {
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

bool ImageMatchesAny(const v1alpha::Image& image, const ImageFilters& filters) {
  return filters.empty() || AnyOf(filters, [&](const v1alpha::ImageFilter& filter) {
           return ImageMatchesFilter(image, filter);
         });
}

}  // namespace comet::api
