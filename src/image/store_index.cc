// index.json (the OCI image index naming the store's images) and images/<hex>.json (comet's
// metadata of each image), and looking images up by name, digest or ID prefix.
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/store_internal.h"
#include "os/file.h"

namespace comet::image::store_internal {
namespace {

constexpr size_t kMaxMetadataBytes = 1U << 20U;
// index.json lists every name of every image; allow far more than a manifest.
constexpr size_t kMaxIndexBytes = 64U << 20U;

int64_t ToUnixNano(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Clock::time_point FromUnixNano(int64_t ns) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

nlohmann::json PlatformJson(const Platform& p) {
  nlohmann::json j = {{"os", p.os}, {"architecture", p.architecture}};
  if (!p.variant.empty()) {
    j["variant"] = p.variant;
  }
  if (!p.os_version.empty()) {
    j["os.version"] = p.os_version;
  }
  if (!p.os_features.empty()) {
    j["os.features"] = p.os_features;
  }
  return j;
}

Platform PlatformFromJson(const nlohmann::json& j) {
  Platform p;
  p.os = j.value("os", "");
  p.architecture = j.value("architecture", "");
  p.variant = j.value("variant", "");
  p.os_version = j.value("os.version", "");
  p.os_features = j.value("os.features", std::vector<std::string>{});
  return p;
}

Result<ImageRecord> ParseMetadata(const std::string& text, const std::string& path) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("schemaVersion").get<int>() != kMetadataVersion) {
      return Err(Error::Invalid(
          fmt::format("{}: unsupported metadata version {}", path, j.at("schemaVersion").dump())));
    }
    ASSIGN_OR_RETURN(Digest manifest, Digest::Parse(j.at("manifestDigest").get<std::string>()));
    ASSIGN_OR_RETURN(Digest config, Digest::Parse(j.at("configDigest").get<std::string>()));
    std::vector<Digest> repo_digests;
    for (const auto& d : j.value("repoDigests", std::vector<std::string>{})) {
      ASSIGN_OR_RETURN(Digest parsed, Digest::Parse(d));
      repo_digests.push_back(std::move(parsed));
    }
    return ImageRecord{
        .manifest_digest = std::move(manifest),
        .config_digest = std::move(config),
        .manifest_media_type = j.at("mediaType").get<std::string>(),
        .names = {},
        .repo_digests = std::move(repo_digests),
        .platform = PlatformFromJson(j.value("platform", nlohmann::json::object())),
        .size = j.value("size", int64_t{0}),
        .imported = FromUnixNano(j.value("importedUnixNano", int64_t{0})),
        .last_used = FromUnixNano(j.value("lastUsedUnixNano", int64_t{0})),
        .source = j.value("source", ""),
    };
  } catch (const nlohmann::json::exception& e) {
    return Err(Error::Invalid(fmt::format("{}: malformed image metadata: {}", path, e.what())));
  }
}

}  // namespace

Result<ImageRecord> ReadMetadata(const std::string& root, const Digest& manifest) {
  const std::string path = MetadataPath(root, manifest);
  auto text = os::ReadFileLimited(path, kMaxMetadataBytes);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("image {} not found", manifest.ToString())));
    }
    return Err(std::move(text).error());
  }
  ASSIGN_OR_RETURN(ImageRecord image, ParseMetadata(*text, path));
  if (image.manifest_digest != manifest) {
    return Err(Error::Invalid(
        fmt::format("{}: names manifest {}", path, image.manifest_digest.ToString())));
  }
  return image;
}

Status WriteMetadata(const std::string& root, const ImageRecord& image) {
  std::vector<std::string> repo_digests;
  for (const Digest& d : image.repo_digests) {
    repo_digests.push_back(d.ToString());
  }
  const nlohmann::json j = {
      {"schemaVersion", kMetadataVersion},
      {"manifestDigest", image.manifest_digest.ToString()},
      {"configDigest", image.config_digest.ToString()},
      {"mediaType", image.manifest_media_type},
      {"repoDigests", repo_digests},
      {"platform", PlatformJson(image.platform)},
      {"size", image.size},
      {"importedUnixNano", ToUnixNano(image.imported)},
      {"lastUsedUnixNano", ToUnixNano(image.last_used)},
      {"source", image.source},
  };
  const std::string path = MetadataPath(root, image.manifest_digest);
  RETURN_IF_ERROR(os::WriteFileAtomic(path, j.dump(), ReadableFileMode(root)));
  return FsyncDir(ImagesDir(root));
}

Result<std::vector<ImageRecord>> LoadImages(const std::string& root, std::vector<Digest>* orphans) {
  ASSIGN_OR_RETURN(std::string text, os::ReadFileLimited(IndexPath(root), kMaxIndexBytes));
  // ParseIndex bounds documents at manifest size; index.json is ours and may be larger.
  std::vector<ImageRecord> images;
  std::map<Digest, size_t> position;
  try {
    const auto j = nlohmann::json::parse(text);
    for (const auto& desc : j.value("manifests", nlohmann::json::array())) {
      ASSIGN_OR_RETURN(Digest digest, Digest::Parse(desc.at("digest").get<std::string>()));
      std::string name;
      if (const auto a = desc.find("annotations"); a != desc.end()) {
        name = a->value(std::string(kRefNameAnnotation), "");
      }
      auto it = position.find(digest);
      if (it == position.end()) {
        auto image = ReadMetadata(root, digest);
        if (!image) {
          if (image.error().code() != ENOENT) {
            return Err(std::move(image).error());
          }
          if (orphans != nullptr) {
            orphans->push_back(digest);
          }
          continue;
        }
        it = position.emplace(digest, images.size()).first;
        images.push_back(std::move(*image));
      }
      if (!name.empty()) {
        images[it->second].names.push_back(std::move(name));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Err(
        Error::Invalid(fmt::format("{}: malformed image index: {}", IndexPath(root), e.what())));
  }
  return images;
}

Status WriteIndex(const std::string& root, const std::vector<ImageRecord>& images) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const ImageRecord& image : images) {
    struct stat st {};
    int64_t size = 0;
    if (::stat(os::JoinPath(root, "blobs/" + image.manifest_digest.algorithm() + "/" +
                                      image.manifest_digest.hex())
                   .c_str(),
               &st) == 0) {
      size = st.st_size;
    }
    nlohmann::json desc = {{"mediaType", image.manifest_media_type},
                           {"digest", image.manifest_digest.ToString()},
                           {"size", size}};
    if (!image.platform.os.empty()) {
      desc["platform"] = PlatformJson(image.platform);
    }
    if (image.names.empty()) {
      manifests.push_back(desc);
    }
    for (const std::string& name : image.names) {
      nlohmann::json named = desc;
      named["annotations"] = {{std::string(kRefNameAnnotation), name}};
      manifests.push_back(std::move(named));
    }
  }
  const nlohmann::json index = {{"schemaVersion", 2},
                                {"mediaType", std::string(media_type::kOciIndex)},
                                {"manifests", manifests}};
  RETURN_IF_ERROR(os::WriteFileAtomic(IndexPath(root), index.dump(), 0644));
  return FsyncDir(root);
}

namespace {

bool HasDigest(const ImageRecord& image, const Digest& d) {
  return image.manifest_digest == d || image.config_digest == d ||
         std::find(image.repo_digests.begin(), image.repo_digests.end(), d) !=
             image.repo_digests.end();
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<size_t> Unique(const std::vector<size_t>& matches, std::string_view what,
                      std::string_view kind) {
  if (matches.size() == 1) {
    return matches[0];
  }
  if (matches.empty()) {
    return Err(Error::NotFound(fmt::format("image {:?} not found", what)));
  }
  return Err(Error::Invalid(
      fmt::format("{} {:?} is ambiguous: it matches {} images", kind, what, matches.size())));
}

// True when one of the image's names is in repository `repo` ("docker.io/library/busybox").
bool HasNameIn(const ImageRecord& image, const std::string& repo, const ReferenceOptions& options) {
  return std::any_of(image.names.begin(), image.names.end(), [&](const std::string& name) {
    auto ref = ParseReference(name, options);
    return ref && ref->Name() == repo;
  });
}

// Images with digest `d` (and, when `repo` is given, a name in that repository: "a@sha256:D"
// must not find an image of another repository). An index digest names one image per platform
// pulled through it: then the one for this host is meant, as podman and containerd resolve a
// multi-platform name.
std::vector<size_t> ByDigest(const std::vector<ImageRecord>& images, const Digest& d,
                             const std::string* repo = nullptr,
                             const ReferenceOptions* options = nullptr) {
  std::vector<size_t> out;
  for (size_t i = 0; i < images.size(); ++i) {
    if (HasDigest(images[i], d) && (repo == nullptr || HasNameIn(images[i], *repo, *options))) {
      out.push_back(i);
    }
  }
  if (out.size() > 1) {
    const Platform host = HostPlatform();
    std::vector<size_t> native;
    for (size_t i : out) {
      if (images[i].platform.os == host.os &&
          images[i].platform.architecture == host.architecture) {
        native.push_back(i);
      }
    }
    if (native.size() == 1) {
      return native;
    }
  }
  return out;
}

}  // namespace

Result<size_t> FindIn(const std::vector<ImageRecord>& images, std::string_view what,
                      const ReferenceOptions& options) {
  if (what.empty()) {
    return Err(Error::Invalid("empty image name"));
  }
  if (auto digest = Digest::Parse(what)) {
    return Unique(ByDigest(images, *digest), what, "digest");
  }
  if (auto ref = ParseReference(what, options)) {
    const std::string canonical = ref->ToString();
    for (size_t i = 0; i < images.size(); ++i) {
      const auto& names = images[i].names;
      if (std::find(names.begin(), names.end(), canonical) != names.end()) {
        return i;
      }
    }
    if (ref->digest) {
      const std::string repo = ref->Name();
      return Unique(ByDigest(images, *ref->digest, &repo, &options), what, "reference");
    }
  }
  std::string_view prefix = what;
  if (prefix.starts_with("sha256:")) {
    prefix.remove_prefix(7);
  }
  if (prefix.size() >= 3 && prefix.size() <= 64 && IsHex(prefix)) {
    std::vector<size_t> matches;
    for (size_t i = 0; i < images.size(); ++i) {
      if (images[i].config_digest.hex().starts_with(prefix) ||
          images[i].manifest_digest.hex().starts_with(prefix)) {
        matches.push_back(i);
      }
    }
    return Unique(matches, what, "image ID prefix");
  }
  return Err(Error::NotFound(fmt::format("image {:?} not found", what)));
}

}  // namespace comet::image::store_internal
