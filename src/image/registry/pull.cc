// Pull: resolves a reference to one manifest (through at most one nested index), fetches the
// config, downloads the layers on a small thread pool (pull_layers.cc) and names the image.
// Thread-safe: each Pull call has its own state; the store serialises what pulls share.
#include "image/registry/pull.h"

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/registry/pull_layers.h"

namespace comet::image::registry {
namespace {

// Indexes allowed below the top-level one: index -> index -> manifest is fine, a third index
// level is refused, so a hostile registry cannot make us walk a long chain of documents.
constexpr int kMaxIndexDepth = 1;

void Emit(const PullOptions& options, PullEvent::Kind kind, std::string digest = {},
          uint64_t done = 0, uint64_t total = 0) {
  if (options.progress) {
    options.progress(PullEvent{kind, std::move(digest), done, total});
  }
}

struct Resolved {
  Manifest manifest;
  Digest manifest_digest;
  std::optional<Digest> index_digest;  // the first index met (what the reference names)
  std::optional<Platform> platform;    // from the index descriptor, when there was one
};

std::string AvailablePlatforms(const Index& index) {
  std::vector<std::string> names;
  for (const Descriptor& d : index.manifests) {
    names.push_back(d.platform ? d.platform->ToString() : "unknown");
  }
  return names.empty() ? "none" : Join(names, ", ");
}

// The descriptor of the manifest for `options.platform` in `index`, or an error listing what
// the index offers.
Result<Descriptor> SelectFromIndex(const Index& index, const Reference& ref,
                                   const PullOptions& options) {
  std::optional<size_t> selected = SelectPlatform(index, options.platform);
  if (!selected) {
    return Err(Error::NotFound(fmt::format("no image for {} in {}; available: {}",
                                           options.platform.ToString(), ref.ToString(),
                                           AvailablePlatforms(index))));
  }
  return index.manifests[*selected];
}

// Checks a fetched document against the descriptor that pointed at it.
Status CheckAgainstDescriptor(const FetchedManifest& fetched, const Descriptor& desc) {
  if (fetched.digest != desc.digest) {
    return Err(Error::Invalid(fmt::format("manifest digest mismatch: expected {}, got {}",
                                          desc.digest.ToString(), fetched.digest.ToString())));
  }
  if (desc.size >= 0 && fetched.body.size() != static_cast<uint64_t>(desc.size)) {
    return Err(Error::Invalid(fmt::format("manifest {}: size {} does not match the index ({})",
                                          desc.digest.ToString(), fetched.body.size(), desc.size)));
  }
  return Ok();
}

// Fetches documents from the reference down to a single-image manifest, storing each (index
// and manifest blobs) under the lease before anything else can refer to them.
Result<Resolved> Resolve(Store& store, Lease& lease, RegistryClient& client, const Reference& ref,
                         const PullOptions& options) {
  std::optional<Digest> index_digest;
  std::optional<Platform> platform;
  ASSIGN_OR_RETURN(FetchedManifest fetched, client.GetManifest(ref.TagOrDigest()));
  if (ref.digest && fetched.digest != *ref.digest) {
    return Err(Error::Invalid(fmt::format("manifest digest mismatch: asked for {}, got {}",
                                          ref.digest->ToString(), fetched.digest.ToString())));
  }
  for (int depth = 0;; ++depth) {
    ASSIGN_OR_RETURN(DocumentKind kind, DetectDocumentKind(fetched.body, fetched.media_type));
    RETURN_IF_ERROR(lease.Add({fetched.digest}));
    if (kind == DocumentKind::kManifest) {
      ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(fetched.body));
      RETURN_IF_ERROR(store.PutBlob(fetched.body, fetched.digest));
      return Resolved{std::move(manifest), fetched.digest, index_digest, platform};
    }
    if (depth > kMaxIndexDepth) {  // `depth`: 0 for the top-level document
      return Err(Error::Invalid(fmt::format("{}: index {} nests indexes more than one level deep",
                                            ref.ToString(), fetched.digest.ToString())));
    }
    ASSIGN_OR_RETURN(Index index, ParseIndex(fetched.body));
    RETURN_IF_ERROR(store.PutBlob(fetched.body, fetched.digest));
    if (!index_digest) {
      index_digest = fetched.digest;
    }
    ASSIGN_OR_RETURN(Descriptor desc, SelectFromIndex(index, ref, options));
    platform = desc.platform;
    ASSIGN_OR_RETURN(fetched, client.GetManifest(desc.digest.ToString()));
    RETURN_IF_ERROR(CheckAgainstDescriptor(fetched, desc));
  }
}

// The config blob, from the store when present, else from the registry (verified, stored).
Result<ImageConfig> FetchConfig(Store& store, RegistryClient& client, const Resolved& resolved,
                                const PullOptions& options) {
  const Descriptor& desc = resolved.manifest.config;
  if (desc.size > static_cast<int64_t>(kMaxConfigBytes)) {
    return Err(Error::Invalid(fmt::format("config {}: size {} exceeds the limit of {} bytes",
                                          desc.digest.ToString(), desc.size, kMaxConfigBytes)));
  }
  const std::string digest = desc.digest.ToString();
  const auto size = static_cast<uint64_t>(desc.size);
  std::string data;
  Emit(options, PullEvent::Kind::kBlobStarted, digest, 0, size);
  if (store.HasBlob(desc.digest)) {
    ASSIGN_OR_RETURN(data, store.ReadBlob(desc.digest, kMaxConfigBytes));
  } else {
    ASSIGN_OR_RETURN(data, client.GetBlob(desc.digest, kMaxConfigBytes));
    RETURN_IF_ERROR(store.PutBlob(data, desc.digest));
  }
  if (data.size() != size) {
    return Err(Error::Invalid(
        fmt::format("config {}: got {} bytes, its descriptor says {}", digest, data.size(), size)));
  }
  Emit(options, PullEvent::Kind::kBlobDone, digest, size, size);
  ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(data));
  if (config.diff_ids.size() != resolved.manifest.layers.size()) {
    return Err(
        Error::Invalid(fmt::format("config {} lists {} diff IDs for {} layers", digest,
                                   config.diff_ids.size(), resolved.manifest.layers.size())));
  }
  // The config is what describes the image; a descriptor that disagrees is odd but harmless.
  const Platform& want = resolved.platform ? *resolved.platform : options.platform;
  if (config.os != want.os || config.architecture != want.architecture) {
    log::Warning("image {} is {}/{}, but {} was expected", digest, config.os, config.architecture,
                 want.ToString());
  }
  return config;
}

uint64_t TotalSize(const Manifest& manifest) {
  auto total = static_cast<uint64_t>(manifest.config.size);
  for (const Descriptor& layer : manifest.layers) {
    total += static_cast<uint64_t>(layer.size);
  }
  return total;
}

Result<ImageRecord> PullInto(Store& store, const Reference& ref, const PullOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<RegistryClient> client,
                   RegistryClient::Create(ref.registry, ref.repository, options.registry));
  // Taken before anything is stored, so that a concurrent gc cannot sweep half a pull.
  ASSIGN_OR_RETURN(Lease lease, store.TemporaryLease());
  ASSIGN_OR_RETURN(Resolved resolved, Resolve(store, lease, *client, ref, options));
  const Manifest& manifest = resolved.manifest;
  std::vector<Digest> leased = {manifest.config.digest};
  for (const Descriptor& layer : manifest.layers) {
    leased.push_back(layer.digest);
  }
  RETURN_IF_ERROR(lease.Add(leased));
  RETURN_IF_ERROR(CheckLayersFetchable(manifest, options.unpack_layers));
  Emit(options, PullEvent::Kind::kResolved, resolved.manifest_digest.ToString(), 0,
       TotalSize(manifest));

  ASSIGN_OR_RETURN(ImageConfig config, FetchConfig(store, *client, resolved, options));
  RETURN_IF_ERROR(lease.Add(config.diff_ids));
  RETURN_IF_ERROR(PullLayers(store, *client, manifest, config, options));

  AddImageOptions add;
  if (!ref.tag.empty()) {
    // The name carries the tag only: the digest is recorded as a repo digest by the store.
    Reference name = ref;
    name.digest.reset();
    add.names.push_back(std::move(name));
  }
  add.index_digest = resolved.index_digest;
  add.source = "docker://" + ref.ToString();
  ASSIGN_OR_RETURN(ImageRecord image, store.AddImage(resolved.manifest_digest, add));
  Emit(options, PullEvent::Kind::kDone, resolved.manifest_digest.ToString(), TotalSize(manifest),
       TotalSize(manifest));
  return image;
}

}  // namespace

Result<ImageRecord> Pull(Store& store, const Reference& ref, const PullOptions& options) {
  auto image = PullInto(store, ref, options);
  if (!image) {
    return Err(std::move(image).error().AddContext("pulling " + ref.ToString()));
  }
  return image;
}

}  // namespace comet::image::registry
