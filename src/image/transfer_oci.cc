// Import from an OCI image layout, as a directory or a tar (also docker >= 25 archives, which
// embed one): index.json names the images, nested indexes are resolved for the platform, and
// every blob is verified against its descriptor's digest and size. Thread-compatible.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "image/transfer_internal.h"
#include "os/file.h"

namespace comet::image::transfer {

namespace {

constexpr int kMaxIndexDepth = 4;
constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

Status CheckLayoutMarker(std::string_view marker) {
  nlohmann::json json = nlohmann::json::parse(marker, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Err(Error::Invalid("oci-layout: not a JSON object"));
  }
  auto version = json.find("imageLayoutVersion");
  if (version == json.end() || !version->is_string()) {
    return Err(Error::Invalid("oci-layout: imageLayoutVersion missing"));
  }
  if (!StartsWith(version->get_ref<const std::string&>(), "1.")) {
    return Err(Error::Invalid("oci-layout: unsupported imageLayoutVersion " +
                              JsonQuote(version->get_ref<const std::string&>())));
  }
  return Ok();
}

// The blob in the store must have the size its descriptor claims.
Status CheckStoredSize(const Store& store, const Descriptor& desc) {
  struct stat st {};
  if (::stat(store.BlobPath(desc.digest).c_str(), &st) != 0) {
    return Err(Error::FromErrno("stat", store.BlobPath(desc.digest)));
  }
  if (st.st_size != desc.size) {
    return Err(Error::Invalid("blob " + desc.digest.ToString() + " has " +
                              std::to_string(st.st_size) + " bytes, its descriptor says " +
                              std::to_string(desc.size)));
  }
  return Ok();
}

bool IsImageDocument(std::string_view type) {
  return type.empty() || type == media_type::kOciManifest || type == media_type::kOciIndex ||
         type == media_type::kDockerManifest || type == media_type::kDockerManifestList;
}

class LayoutWalker {
 public:
  LayoutWalker(ImportContext& ctx, const std::function<Status(const Descriptor&)>& fetch)
      : ctx_(ctx), fetch_(fetch) {}

  // The image behind a descriptor of index.json (a manifest, or an index to choose from).
  Result<PendingImage> Resolve(const Descriptor& desc, std::optional<Digest> index_digest,
                               int depth) {
    if (desc.size > static_cast<int64_t>(kMaxManifestBytes)) {
      return Err(Error::Invalid(desc.digest.ToString() + ": manifest larger than the limit"));
    }
    RETURN_IF_ERROR(fetch_(desc));
    ASSIGN_OR_RETURN(std::string json, ctx_.store.ReadBlob(desc.digest, kMaxManifestBytes));
    ASSIGN_OR_RETURN(DocumentKind kind, DetectDocumentKind(json, desc.media_type));
    if (kind == DocumentKind::kIndex) {
      if (depth >= kMaxIndexDepth) {
        return Err(Error::Invalid(desc.digest.ToString() + ": indexes nested too deep"));
      }
      ASSIGN_OR_RETURN(Index index, ParseIndex(json));
      std::optional<size_t> chosen = SelectPlatform(index, ctx_.options.platform);
      if (!chosen) {
        return Err(Error::NotFound("index " + desc.digest.ToString() + " has no image for " +
                                   ctx_.options.platform.ToString()));
      }
      return Resolve(index.manifests[*chosen], index_digest ? index_digest : desc.digest,
                     depth + 1);
    }
    ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(json));
    if (manifest.config.size > static_cast<int64_t>(kMaxConfigBytes)) {
      return Err(Error::Invalid(manifest.config.digest.ToString() + ": config too large"));
    }
    RETURN_IF_ERROR(fetch_(manifest.config));
    ASSIGN_OR_RETURN(std::string config_json,
                     ctx_.store.ReadBlob(manifest.config.digest, kMaxConfigBytes));
    ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_json));
    for (const Descriptor& layer : manifest.layers) {
      RETURN_IF_ERROR(fetch_(layer));
    }
    return PendingImage{.manifest_digest = desc.digest,
                        .manifest = std::move(manifest),
                        .config = std::move(config),
                        .names = {},
                        .index_digest = std::move(index_digest),
                        .diff_ids_verified = false};
  }

 private:
  ImportContext& ctx_;
  const std::function<Status(const Descriptor&)>& fetch_;
};

std::string Annotation(const Descriptor& desc, std::string_view key) {
  auto it = desc.annotations.find(std::string(key));
  return it == desc.annotations.end() ? std::string() : it->second;
}

}  // namespace

Result<std::vector<PendingImage>> WalkOciLayout(
    ImportContext& ctx, std::string_view layout_marker, std::string_view index_json,
    const std::function<Status(const Descriptor&)>& fetch) {
  RETURN_IF_ERROR(CheckLayoutMarker(layout_marker));
  ASSIGN_OR_RETURN(Index index, ParseIndex(index_json));
  LayoutWalker walker(ctx, fetch);
  std::vector<PendingImage> images;
  std::vector<std::string> seen_names;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const Descriptor& desc = index.manifests[i];
    std::string ref_name = Annotation(desc, kRefNameAnnotation);
    std::string full_name = Annotation(desc, kContainerdNameAnnotation);
    seen_names.push_back(ref_name);
    if (!ctx.options.select.empty() && !MatchesSelect(ctx.store, ctx.options.select, ref_name) &&
        !(!full_name.empty() && MatchesSelect(ctx.store, ctx.options.select, full_name))) {
      continue;
    }
    if (!IsImageDocument(desc.media_type)) {
      log::Info("index.json: manifests[{}]: skipping {}", i, desc.media_type);
      continue;
    }
    std::optional<Reference> name = ParseArchiveName(ctx.store, full_name);
    if (!name) {
      name = ParseArchiveName(ctx.store, ref_name);
    }
    auto same = std::find_if(images.begin(), images.end(), [&](const PendingImage& image) {
      return image.manifest_digest == desc.digest;
    });
    if (same == images.end()) {
      auto image = walker.Resolve(desc, std::nullopt, 0);
      if (!image) {
        return Err(std::move(image).error().AddContext("index.json: manifests[" +
                                                       std::to_string(i) + "]"));
      }
      images.push_back(std::move(*image));
      same = images.end() - 1;
    }
    if (name && std::find(same->names.begin(), same->names.end(), *name) == same->names.end()) {
      same->names.push_back(std::move(*name));
    }
  }
  if (images.empty() && !ctx.options.select.empty()) {
    return Err(Error::NotFound("no image named " + JsonQuote(ctx.options.select) +
                               " in the layout (names: " + Join(seen_names, ", ") + ")"));
  }
  return images;
}

Result<std::vector<ImageRecord>> ImportOciDir(ImportContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(std::string marker,
                   os::ReadFileLimited(os::JoinPath(path, "oci-layout"), kMaxMarkerBytes));
  ASSIGN_OR_RETURN(std::string index_json,
                   os::ReadFileLimited(os::JoinPath(path, "index.json"), kMaxManifestBytes));
  ASSIGN_OR_RETURN(os::UniqueFd dir, os::Open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto fetch = [&](const Descriptor& desc) -> Status {
    RETURN_IF_ERROR(ctx.lease.Add({desc.digest}));
    std::string name = "blobs/" + desc.digest.algorithm() + "/" + desc.digest.hex();
    // The layout's own symlinks are not followed: its content is as hostile as a tar's.
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, dir.get(), name.c_str(), &how, sizeof(how));
    if (fd < 0) {
      if (errno == ENOENT && ctx.store.HasBlob(desc.digest)) {
        return CheckStoredSize(ctx.store, desc);
      }
      return Err(Error::FromErrno("open", os::JoinPath(path, name)));
    }
    os::UniqueFd source(static_cast<int>(fd));
    ASSIGN_OR_RETURN(BlobWriter writer, ctx.store.BeginBlob(desc.digest, desc.size));
    if (!writer.done()) {
      Status copied =
          CopyFd(source.get(), [&](std::string_view chunk) { return writer.Write(chunk); });
      if (!copied) {
        writer.Discard();
        return Err(std::move(copied).error().AddContext(name));
      }
    }
    RETURN_IF_ERROR_CTX(writer.Commit(), name);
    return CheckStoredSize(ctx.store, desc);
  };
  ASSIGN_OR_RETURN(std::vector<PendingImage> images, WalkOciLayout(ctx, marker, index_json, fetch));
  return FinishImport(ctx, std::move(images));
}

Result<std::vector<ImageRecord>> ImportOciTar(ImportContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path));
  std::optional<std::string> marker;
  std::optional<std::string> index_json;
  std::map<Digest, int64_t> blobs;
  // Tar order is arbitrary: every blob goes into the store as met, verified against the digest
  // its path names; the descriptors' sizes are checked once index.json is known.
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) {
      break;
    }
    if (entry->type != EntryType::kFile) {
      continue;
    }
    const std::string& p = entry->path;
    if (p == "oci-layout") {
      ASSIGN_OR_RETURN(marker, reader.ReadSmall(kMaxMarkerBytes));
    } else if (p == "index.json") {
      auto data = reader.ReadSmall(kMaxManifestBytes);
      if (!data) {
        return Err(std::move(data).error().AddContext("index.json"));
      }
      index_json = std::move(*data);
    } else if (StartsWith(p, "blobs/")) {
      std::vector<std::string> parts = Split(p, '/');
      if (parts.size() != 3) {
        return Err(Error::Invalid(p + ": not a blob path"));
      }
      auto digest = Digest::Parse(parts[1] + ":" + parts[2]);
      if (!digest) {
        return Err(std::move(digest).error().AddContext(p));
      }
      RETURN_IF_ERROR(ctx.lease.Add({*digest}));
      ASSIGN_OR_RETURN(BlobWriter writer, ctx.store.BeginBlob(*digest, entry->size));
      if (!writer.done()) {
        Status copied =
            reader.ReadData([&](std::string_view chunk) { return writer.Write(chunk); });
        if (!copied) {
          writer.Discard();
          return Err(std::move(copied).error().AddContext(p));
        }
      }
      RETURN_IF_ERROR_CTX(writer.Commit(), p);
      blobs[*digest] = entry->size;
    }
  }
  if (!marker) {
    return Err(Error::Invalid("no oci-layout file in the archive"));
  }
  if (!index_json) {
    return Err(Error::Invalid("no index.json in the archive"));
  }
  auto fetch = [&](const Descriptor& desc) -> Status {
    if (!blobs.contains(desc.digest) && !ctx.store.HasBlob(desc.digest)) {
      return Err(Error::NotFound("blob " + desc.digest.ToString() + " missing from the archive"));
    }
    RETURN_IF_ERROR(ctx.lease.Add({desc.digest}));
    return CheckStoredSize(ctx.store, desc);
  };
  ASSIGN_OR_RETURN(std::vector<PendingImage> images,
                   WalkOciLayout(ctx, *marker, *index_json, fetch));
  return FinishImport(ctx, std::move(images));
}

}  // namespace comet::image::transfer
