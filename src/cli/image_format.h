// Output of `comet image list` and `image inspect`: rkt's table (ID NAME SIZE IMPORT TIME LAST
// USED), JSON for scripts, and the human forms of sizes and ages. Pure functions, thread-safe.
#ifndef COMET_CLI_IMAGE_FORMAT_H_
#define COMET_CLI_IMAGE_FORMAT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "image/manifest.h"
#include "image/store.h"

namespace comet::cli {

struct ImageListOptions {
  bool no_trunc = false;  // full "sha256:<hex>" IDs instead of 12 hex digits
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// One row per name (nameless images once, as "<none>"), newest import first, columns aligned.
std::string FormatImageTable(const std::vector<image::ImageRecord>& images,
                             const ImageListOptions& options);
// One ID per line (unique, newest first).
std::string FormatImageIds(const std::vector<image::ImageRecord>& images, bool no_trunc);
// A JSON array of {id, digest, names, repoDigests, size, platform, importTime, lastUsed,
// source}; times in RFC 3339.
std::string FormatImageListJson(const std::vector<image::ImageRecord>& images);
// One image's record, manifest and config as an indented JSON object.
std::string FormatImageInspectJson(const image::ImageRecord& image,
                                   const std::string& manifest_json,
                                   const std::string& config_json);

// "1.2 MB", "512 B" (decimal units, as podman shows sizes).
std::string HumanSize(uint64_t bytes);
// "2 minutes ago", "3 days ago", "Just now"; "Never" for the epoch.
std::string HumanAge(std::chrono::system_clock::time_point when,
                     std::chrono::system_clock::time_point now);

}  // namespace comet::cli

#endif  // COMET_CLI_IMAGE_FORMAT_H_
