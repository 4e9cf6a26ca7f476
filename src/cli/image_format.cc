// Image list and inspect output.
#include "cli/image_format.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/list_format.h"

namespace comet::cli {
namespace {

using Clock = std::chrono::system_clock;

std::string ImageId(const image::ImageRecord& image, bool no_trunc) {
  return no_trunc ? image.config_digest.ToString() : image.config_digest.Short();
}

std::vector<image::ImageRecord> NewestFirst(std::vector<image::ImageRecord> images) {
  std::stable_sort(images.begin(), images.end(),
                   [](const image::ImageRecord& a, const image::ImageRecord& b) {
                     return a.imported > b.imported;
                   });
  return images;
}

std::string Plural(int64_t count, const char* unit) {
  return fmt::format("{} {}{} ago", count, unit, count == 1 ? "" : "s");
}

}  // namespace

std::string HumanSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  auto value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  if (unit == 0) {
    return fmt::format("{} B", bytes);
  }
  return fmt::format("{:.3g} {}", value, kUnits[unit]);
}

std::string HumanAge(Clock::time_point when, Clock::time_point now) {
  if (when.time_since_epoch().count() == 0) {
    return "Never";
  }
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(now - when).count();
  if (seconds < 2) {
    return "Just now";
  }
  if (seconds < 60) {
    return Plural(seconds, "second");
  }
  if (seconds < 3600) {
    return Plural(seconds / 60, "minute");
  }
  if (seconds < 86400) {
    return Plural(seconds / 3600, "hour");
  }
  if (seconds < int64_t{86400} * 14) {
    return Plural(seconds / 86400, "day");
  }
  if (seconds < int64_t{86400} * 60) {
    return Plural(seconds / (int64_t{86400} * 7), "week");
  }
  if (seconds < int64_t{86400} * 730) {
    return Plural(seconds / (int64_t{86400} * 30), "month");
  }
  return Plural(seconds / (int64_t{86400} * 365), "year");
}

std::string FormatImageTable(const std::vector<image::ImageRecord>& images,
                             const ImageListOptions& options) {
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "SIZE", "IMPORT TIME", "LAST USED"}};
  for (const image::ImageRecord& image : NewestFirst(images)) {
    std::vector<std::string> names = image.names;
    if (names.empty()) {
      names.emplace_back("<none>");
    }
    for (const std::string& name : names) {
      rows.push_back(
          {ImageId(image, options.no_trunc), name, HumanSize(static_cast<uint64_t>(image.size)),
           HumanAge(image.imported, options.now), HumanAge(image.last_used, options.now)});
    }
  }
  return AlignColumns(rows);
}

std::string FormatImageIds(const std::vector<image::ImageRecord>& images, bool no_trunc) {
  std::string out;
  std::set<std::string> seen;
  for (const image::ImageRecord& image : NewestFirst(images)) {
    std::string id = ImageId(image, no_trunc);
    if (seen.insert(id).second) {
      out += id + "\n";
    }
  }
  return out;
}

namespace {

nlohmann::json RecordJson(const image::ImageRecord& image) {
  nlohmann::json repo_digests = nlohmann::json::array();
  for (const image::Digest& digest : image.repo_digests) {
    repo_digests.push_back(digest.ToString());
  }
  return {{"id", image.config_digest.ToString()},
          {"digest", image.manifest_digest.ToString()},
          {"mediaType", image.manifest_media_type},
          {"names", image.names},
          {"repoDigests", repo_digests},
          {"size", image.size},
          {"platform", image.platform.ToString()},
          {"importTime", FormatRfc3339Nano(image.imported)},
          {"lastUsed", FormatRfc3339Nano(image.last_used)},
          {"source", image.source}};
}

}  // namespace

std::string FormatImageListJson(const std::vector<image::ImageRecord>& images) {
  nlohmann::json out = nlohmann::json::array();
  for (const image::ImageRecord& image : NewestFirst(images)) {
    out.push_back(RecordJson(image));
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string FormatImageInspectJson(const image::ImageRecord& image,
                                   const std::string& manifest_json,
                                   const std::string& config_json) {
  nlohmann::json out = RecordJson(image);
  // Both documents were parsed and verified by the store; parse failures cannot happen here,
  // but stay non-throwing anyway.
  out["manifest"] = nlohmann::json::parse(manifest_json, nullptr, false);
  out["config"] = nlohmann::json::parse(config_json, nullptr, false);
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace comet::cli
