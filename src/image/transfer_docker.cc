// Import of `docker save` archives (manifest.json with Config, RepoTags and Layers): the layer
// files are stored as they are (their names are not digests), a manifest is written for them,
// and their diff IDs are checked against the config. Thread-compatible.
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/transfer_internal.h"

namespace comet::image::transfer {

namespace {

constexpr size_t kMaxEntries = 100000;  // a docker archive has a few per layer
constexpr size_t kMaxImages = 1000;
constexpr int kMaxLinkHops = 8;

struct SaveEntry {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

struct ScannedEntry {
  EntryType type = EntryType::kOther;
  int64_t size = 0;
  std::string link;
};

Result<std::vector<std::string>> StringArray(const nlohmann::json& json, std::string_view field) {
  std::vector<std::string> out;
  if (json.is_null()) {
    return out;
  }
  if (!json.is_array()) {
    return Err(Error::Invalid(std::string(field) + ": not an array"));
  }
  for (const nlohmann::json& item : json) {
    if (!item.is_string()) {
      return Err(Error::Invalid(std::string(field) + ": not an array of strings"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::vector<SaveEntry>> ParseSaveManifest(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_array()) {
    return Err(Error::Invalid("manifest.json: not a JSON array"));
  }
  if (json.size() > kMaxImages) {
    return Err(Error::Invalid("manifest.json: too many images"));
  }
  std::vector<SaveEntry> entries;
  for (size_t i = 0; i < json.size(); ++i) {
    std::string where = "manifest.json[" + std::to_string(i) + "]";
    const nlohmann::json& item = json[i];
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string()) {
      return Err(Error::Invalid(where + ".Config: missing"));
    }
    SaveEntry entry;
    entry.config = item["Config"].get<std::string>();
    ASSIGN_OR_RETURN(entry.repo_tags,
                     StringArray(item.value("RepoTags", nlohmann::json()), where + ".RepoTags"));
    ASSIGN_OR_RETURN(entry.layers,
                     StringArray(item.value("Layers", nlohmann::json()), where + ".Layers"));
    if (entry.layers.size() > kMaxLayers) {
      return Err(Error::Invalid(where + ".Layers: more than " + std::to_string(kMaxLayers)));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// Resolves `link` (a symlink target) against the directory of `from`, lexically: archive
// symlinks are names inside the archive, never paths on this machine.
Result<std::string> JoinLink(const std::string& from, const std::string& link) {
  if (StartsWith(link, "/")) {
    return Err(Error::Invalid(from + ": absolute symlink " + JsonQuote(link)));
  }
  std::vector<std::string> parts = Split(from, '/');
  parts.pop_back();
  for (std::string& part : Split(link, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (parts.empty()) {
        return Err(Error::Invalid(from + ": symlink " + JsonQuote(link) + " escapes the archive"));
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  return Join(parts, "/");
}

class DockerImport {
 public:
  DockerImport(ImportContext& ctx, std::string path) : ctx_(ctx), path_(std::move(path)) {}

  Result<std::vector<ImageRecord>> Run() {
    RETURN_IF_ERROR(Scan());
    ASSIGN_OR_RETURN(std::vector<SaveEntry> saved, ParseSaveManifest(manifest_json_));
    // Which archive files the chosen images need, after following symlinks.
    std::vector<SaveEntry> chosen;
    for (size_t i = 0; i < saved.size(); ++i) {
      SaveEntry& entry = saved[i];
      if (!Selected(entry)) {
        continue;
      }
      std::string where = "manifest.json[" + std::to_string(i) + "]";
      ASSIGN_OR_RETURN(entry.config, ResolveFile(entry.config, where + ".Config"));
      for (size_t j = 0; j < entry.layers.size(); ++j) {
        ASSIGN_OR_RETURN(
            entry.layers[j],
            ResolveFile(entry.layers[j], where + ".Layers[" + std::to_string(j) + "]"));
      }
      chosen.push_back(std::move(entry));
    }
    if (chosen.empty()) {
      return Err(Error::NotFound(ctx_.options.select.empty()
                                     ? "manifest.json lists no image"
                                     : "no image tagged " + JsonQuote(ctx_.options.select)));
    }
    RETURN_IF_ERROR(Ingest(chosen));
    std::vector<PendingImage> images;
    for (const SaveEntry& entry : chosen) {
      ASSIGN_OR_RETURN(PendingImage image, Build(entry));
      images.push_back(std::move(image));
    }
    return FinishImport(ctx_, std::move(images));
  }

 private:
  // First pass: the entry table and manifest.json.
  Status Scan() {
    ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path_));
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
      if (!entry) {
        break;
      }
      if (entry->path == "manifest.json" && entry->type == EntryType::kFile) {
        auto data = reader.ReadSmall(kMaxManifestBytes);
        if (!data) {
          return Err(std::move(data).error().AddContext("manifest.json"));
        }
        manifest_json_ = std::move(*data);
        have_manifest_ = true;
      }
      if (entry->type == EntryType::kFile || entry->type == EntryType::kSymlink) {
        if (entries_.size() >= kMaxEntries) {
          return Err(Error::Invalid("more than " + std::to_string(kMaxEntries) + " entries"));
        }
        entries_[entry->path] = ScannedEntry{entry->type, entry->size, entry->link};
      }
    }
    if (!have_manifest_) {
      return Err(Error::Invalid("no manifest.json in the archive"));
    }
    return Ok();
  }

  bool Selected(const SaveEntry& entry) const {
    if (ctx_.options.select.empty()) {
      return true;
    }
    return std::any_of(entry.repo_tags.begin(), entry.repo_tags.end(), [&](const auto& tag) {
      return MatchesSelect(ctx_.store, ctx_.options.select, tag);
    });
  }

  Result<std::string> ResolveFile(const std::string& raw, const std::string& where) const {
    auto path = NormalizeArchivePath(raw);
    if (!path) {
      return Err(std::move(path).error().AddContext(where));
    }
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      auto it = entries_.find(*path);
      if (it == entries_.end()) {
        return Err(Error::NotFound(where + ": " + JsonQuote(*path) + " is not in the archive"));
      }
      if (it->second.type == EntryType::kFile) {
        return *path;
      }
      auto next = JoinLink(*path, it->second.link);
      if (!next) {
        return Err(std::move(next).error().AddContext(where));
      }
      path = std::move(next);
    }
    return Err(Error::Invalid(where + ": too many symlinks"));
  }

  // Second pass: the needed files into the store.
  Status Ingest(const std::vector<SaveEntry>& chosen) {
    std::set<std::string> wanted;
    for (const SaveEntry& entry : chosen) {
      if (entries_[entry.config].size > static_cast<int64_t>(kMaxConfigBytes)) {
        return Err(Error::Invalid(entry.config + ": config larger than the limit"));
      }
      wanted.insert(entry.config);
      wanted.insert(entry.layers.begin(), entry.layers.end());
    }
    ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path_));
    for (;;) {
      ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
      if (!entry) {
        break;
      }
      if (entry->type != EntryType::kFile || !wanted.contains(entry->path) ||
          blobs_.contains(entry->path)) {
        continue;
      }
      auto blob = IngestUnknown(ctx_, [&](const auto& write) { return reader.ReadData(write); });
      if (!blob) {
        return Err(std::move(blob).error().AddContext(entry->path));
      }
      blobs_.emplace(entry->path, std::move(*blob));
    }
    for (const std::string& path : wanted) {
      if (!blobs_.contains(path)) {
        return Err(Error::Invalid(path + ": vanished from the archive between two reads"));
      }
    }
    return Ok();
  }

  Result<PendingImage> Build(const SaveEntry& entry) {
    const auto& [config_digest, config_size] = blobs_.at(entry.config);
    ASSIGN_OR_RETURN(std::string config_json, ctx_.store.ReadBlob(config_digest, kMaxConfigBytes));
    auto config = ParseImageConfig(config_json);
    if (!config) {
      return Err(std::move(config).error().AddContext(entry.config));
    }
    std::vector<Descriptor> layers;
    bool all_gzip = true;
    for (const std::string& path : entry.layers) {
      const auto& [digest, size] = blobs_.at(path);
      ASSIGN_OR_RETURN(os::UniqueFd fd, ctx_.store.OpenBlob(digest));
      ASSIGN_OR_RETURN(Compression compression, SniffCompression(fd.get()));
      all_gzip = all_gzip && compression == Compression::kGzip;
      std::string_view type = compression == Compression::kGzip   ? media_type::kOciLayerGzip
                              : compression == Compression::kZstd ? media_type::kOciLayerZstd
                                                                  : media_type::kOciLayer;
      layers.push_back(MakeDescriptor(type, digest, size));
    }
    // Docker schema 2 knows gzip layers only; anything else gets an OCI manifest.
    std::string_view manifest_type = media_type::kOciManifest;
    std::string_view config_type = media_type::kOciConfig;
    if (all_gzip && !layers.empty()) {
      manifest_type = media_type::kDockerManifest;
      config_type = media_type::kDockerConfig;
      for (Descriptor& layer : layers) {
        layer.media_type = std::string(media_type::kDockerLayerGzip);
      }
    }
    Manifest manifest{.schema_version = 2,
                      .media_type = std::string(manifest_type),
                      .config = MakeDescriptor(config_type, config_digest, config_size),
                      .layers = std::move(layers),
                      .annotations = {}};
    ASSIGN_OR_RETURN(Descriptor manifest_desc,
                     PutDocument(ctx_, manifest_type, SerializeManifest(manifest)));
    std::vector<Reference> names;
    for (const std::string& tag : entry.repo_tags) {
      auto name = ParseReference(tag, ctx_.store.reference_options());
      if (!name) {
        return Err(std::move(name).error().AddContext("manifest.json: RepoTags " + tag));
      }
      names.push_back(std::move(*name));
    }
    return PendingImage{.manifest_digest = manifest_desc.digest,
                        .manifest = std::move(manifest),
                        .config = std::move(*config),
                        .names = std::move(names),
                        .index_digest = std::nullopt,
                        .diff_ids_verified = false};
  }

  ImportContext& ctx_;
  std::string path_;
  std::string manifest_json_;
  bool have_manifest_ = false;
  std::map<std::string, ScannedEntry> entries_;
  std::map<std::string, std::pair<Digest, int64_t>> blobs_;
};

}  // namespace

Result<std::vector<ImageRecord>> ImportDockerArchive(ImportContext& ctx, const std::string& path) {
  return DockerImport(ctx, path).Run();
}

}  // namespace comet::image::transfer
