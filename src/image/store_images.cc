// Images in the store: registering, listing, finding, naming and removing them. Every change
// holds the store lock; metadata is written before index.json names an image and removed after
// index.json stops naming it, so a crash never shows an image without its metadata.
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "image/store.h"
#include "image/store_internal.h"

namespace comet::image {
namespace si = store_internal;

namespace {

void RemoveName(std::vector<ImageRecord>& images, const std::string& name) {
  for (ImageRecord& image : images) {
    std::erase(image.names, name);
  }
}

void AddUnique(std::vector<Digest>& digests, const Digest& d) {
  if (std::find(digests.begin(), digests.end(), d) == digests.end()) {
    digests.push_back(d);
  }
}

// Reads and checks what AddImage registers: a single-image manifest whose blobs are all here.
Result<ImageRecord> DescribeImage(const Store& store, const Digest& manifest_digest) {
  ASSIGN_OR_RETURN(std::string json, store.ReadBlob(manifest_digest, kMaxManifestBytes));
  ASSIGN_OR_RETURN(DocumentKind kind, DetectDocumentKind(json));
  if (kind != DocumentKind::kManifest) {
    return Err(Error::Invalid(
        fmt::format("{} is an image index, not an image manifest", manifest_digest.ToString())));
  }
  ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(json));
  ASSIGN_OR_RETURN(std::string config_json,
                   store.ReadBlob(manifest.config.digest, kMaxConfigBytes));
  ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_json));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return Err(Error::Invalid(fmt::format("image {}: config has {} diff IDs for {} layers",
                                          manifest_digest.ToString(), config.diff_ids.size(),
                                          manifest.layers.size())));
  }
  auto size = static_cast<int64_t>(json.size() + config_json.size());
  for (const Descriptor& layer : manifest.layers) {
    if (!store.HasBlob(layer.digest)) {
      return Err(Error::NotFound(fmt::format("image {}: layer blob {} not in the store",
                                             manifest_digest.ToString(), layer.digest.ToString())));
    }
    size += layer.size;
  }
  const auto now = Clock::now();
  return ImageRecord{
      .manifest_digest = manifest_digest,
      .config_digest = manifest.config.digest,
      .manifest_media_type =
          manifest.media_type.empty() ? std::string(media_type::kOciManifest) : manifest.media_type,
      .names = {},
      .repo_digests = {manifest_digest},
      .platform = Platform{.os = config.os,
                           .architecture = config.architecture,
                           .variant = config.variant,
                           .os_version = {},
                           .os_features = {}},
      .size = size,
      .imported = now,
      .last_used = now,
      .source = {},
  };
}

}  // namespace

Result<ImageRecord> Store::AddImage(const Digest& manifest_digest,
                                    const AddImageOptions& options) const {
  for (const Reference& name : options.names) {
    if (name.digest && *name.digest != manifest_digest &&
        (!options.index_digest || *name.digest != *options.index_digest)) {
      return Err(Error::Invalid(fmt::format("name {} does not match manifest {}", name.ToString(),
                                            manifest_digest.ToString())));
    }
  }
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  // Under the lock: gc cannot remove the blobs between this check and index.json naming them.
  ASSIGN_OR_RETURN(ImageRecord fresh, DescribeImage(*this, manifest_digest));
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images, si::LoadImages(root()));
  auto it = std::find_if(images.begin(), images.end(), [&](const ImageRecord& image) {
    return image.manifest_digest == manifest_digest;
  });
  if (it == images.end()) {
    images.push_back(std::move(fresh));
    it = images.end() - 1;
  } else {
    it->last_used = fresh.last_used;
  }
  it->source = options.source.empty() ? it->source : options.source;
  if (options.index_digest) {
    AddUnique(it->repo_digests, *options.index_digest);
  }
  const size_t pos = static_cast<size_t>(it - images.begin());
  for (const Reference& name : options.names) {
    const std::string canonical = name.ToString();
    RemoveName(images, canonical);
    images[pos].names.push_back(canonical);
  }
  RETURN_IF_ERROR(si::WriteMetadata(root(), images[pos]));
  RETURN_IF_ERROR(si::WriteIndex(root(), images));
  return images[pos];
}

Result<std::vector<ImageRecord>> Store::ListImages() const {
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root(), /*shared=*/true));
  return si::LoadImages(root());
}

Result<ImageRecord> Store::FindImage(std::string_view what) const {
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images, ListImages());
  ASSIGN_OR_RETURN(size_t i, si::FindIn(images, what, options_.reference));
  return images[i];
}

Status Store::Tag(std::string_view what, const Reference& name) const {
  if (name.digest) {
    return Err(
        Error::Invalid(fmt::format("cannot tag with a digest reference {}", name.ToString())));
  }
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images, si::LoadImages(root()));
  ASSIGN_OR_RETURN(size_t i, si::FindIn(images, what, options_.reference));
  const std::string canonical = name.ToString();
  RemoveName(images, canonical);
  images[i].names.push_back(canonical);
  return si::WriteIndex(root(), images);
}

Status Store::Untag(const Reference& name) const {
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  ASSIGN_OR_RETURN(std::vector<ImageRecord> images, si::LoadImages(root()));
  const std::string canonical = name.ToString();
  const bool found = std::any_of(images.begin(), images.end(), [&](const ImageRecord& image) {
    return std::find(image.names.begin(), image.names.end(), canonical) != image.names.end();
  });
  if (!found) {
    return Err(Error::NotFound(fmt::format("no image is named {}", canonical)));
  }
  RemoveName(images, canonical);
  return si::WriteIndex(root(), images);
}

Status Store::MarkUsed(const Digest& manifest_digest) const {
  ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
  ASSIGN_OR_RETURN(ImageRecord image, si::ReadMetadata(root(), manifest_digest));
  // "Last used" feeds gc grace periods of hours: a record rewritten (and fsynced) at every pod
  // start would cost each `comet run` more than it tells. A minute's precision is plenty.
  const Clock::time_point now = Clock::now();
  if (now >= image.last_used && now - image.last_used < std::chrono::minutes(1)) {
    return Ok();
  }
  image.last_used = now;
  return si::WriteMetadata(root(), image);
}

namespace {

Error InUse(const ImageRecord& image, const si::LeaseInfo& lease) {
  const std::string who = lease.temporary
                              ? fmt::format("an operation in progress (lease {})", lease.name)
                              : fmt::format("pod {}", lease.name);
  return {EBUSY, fmt::format("image {} is in use by {}", image.config_digest.Short(), who)};
}

}  // namespace

Status Store::RemoveImage(std::string_view what) const {
  si::SweepResult sweep;
  {
    ASSIGN_OR_RETURN(os::UniqueFd lock, si::LockStore(root()));
    ASSIGN_OR_RETURN(std::vector<ImageRecord> images, si::LoadImages(root()));
    ASSIGN_OR_RETURN(size_t i, si::FindIn(images, what, options_.reference));
    ASSIGN_OR_RETURN(std::vector<si::LeaseInfo> leases,
                     si::ReadLeases(root(), /*remove_dead=*/false));
    if (const si::LeaseInfo* lease = si::LeaseHolding(leases, images[i])) {
      return Err(InUse(images[i], *lease));
    }
    const ImageRecord removed = images[i];
    images.erase(images.begin() + static_cast<std::ptrdiff_t>(i));
    RETURN_IF_ERROR(si::WriteIndex(root(), images));
    ::unlink(si::MetadataPath(root(), removed.manifest_digest).c_str());
    ASSIGN_OR_RETURN(sweep, si::SweepUnreferenced(root(), images, leases, /*dry_run=*/false));
  }
  si::RemoveDoomedTrees(sweep, /*dry_run=*/false);
  return Ok();
}

}  // namespace comet::image
