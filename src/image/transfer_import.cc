// Import: format detection, the steps every format shares (documents into the store, diff ID
// checks, layer trees, naming last so that a failure names nothing), and plain rootfs tarballs.
// Thread-compatible; the store itself is process-safe.
#include <fcntl.h>

#include <chrono>

#include "base/strings.h"
#include "image/layer_trees.h"
#include "image/transfer.h"
#include "image/transfer_internal.h"
#include "image/unpack.h"
#include "os/file.h"

namespace comet::image {

namespace transfer {

namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool IsHex64(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Paths that an OCI layout, a docker archive or an ACI may hold. Anything else ("etc/passwd",
// a top-level "hello") means a rootfs tarball. Top-level directories decide nothing: docker
// archives hold one per layer, with any name.
bool InArchiveVocabulary(std::string_view path, EntryType type) {
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) {
    return type == EntryType::kDirectory || path == "manifest.json" || path == "repositories" ||
           path == "oci-layout" || path == "index.json" || path == "manifest" ||
           path.ends_with(".json") || path.ends_with(".tar");
  }
  std::string_view first = path.substr(0, slash);
  std::string_view rest = path.substr(slash + 1);
  return first == "blobs" || first == "rootfs" || IsHex64(first) || rest == "layer.tar" ||
         rest == "json" || rest == "VERSION";
}

Result<ArchiveFormat> DetectFormat(const std::string& path, bool directory) {
  if (directory) {
    if (os::Exists(os::JoinPath(path, "oci-layout"))) {
      return ArchiveFormat::kOciLayout;
    }
    return Err(Error::Invalid(path + ": a directory without an oci-layout file"));
  }
  ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path));
  reader.AllowAbsolutePaths();
  bool docker_manifest = false;
  bool aci_manifest = false;
  bool rootfs = false;
  for (;;) {
    ASSIGN_OR_RETURN(std::optional<TarEntry> entry, reader.Next());
    if (!entry) {
      break;
    }
    const std::string& p = entry->path;
    if (entry->absolute) {
      return ArchiveFormat::kRootfsTarball;  // `tar -P`; image formats never name "/x"
    }
    if (p.empty()) {
      continue;
    }
    if (p == "oci-layout") {
      return ArchiveFormat::kOciLayout;  // also docker >= 25, whose archives embed a layout
    }
    docker_manifest = docker_manifest || p == "manifest.json";
    aci_manifest = aci_manifest || p == "manifest";
    rootfs = rootfs || p == "rootfs" || StartsWith(p, "rootfs/");
    if (aci_manifest && rootfs) {
      return ArchiveFormat::kAci;
    }
    if (!InArchiveVocabulary(p, entry->type)) {
      return ArchiveFormat::kRootfsTarball;
    }
  }
  return docker_manifest ? ArchiveFormat::kDockerArchive : ArchiveFormat::kRootfsTarball;
}

// Decompresses a layer blob and checks it against its descriptor and diff ID.
Status VerifyDiffId(const Store& store, const Descriptor& layer, const Digest& diff_id) {
  ASSIGN_OR_RETURN(Compression compression, LayerCompression(layer.media_type));
  ASSIGN_OR_RETURN(os::UniqueFd fd, store.OpenBlob(layer.digest));
  ASSIGN_OR_RETURN(LayerDigests digests,
                   Decompress(fd.get(), compression, [](std::string_view) { return Ok(); }));
  if (digests.compressed != layer.digest ||
      digests.compressed_size != static_cast<uint64_t>(layer.size)) {
    return Err(Error::Invalid("layer " + layer.digest.ToString() + ": the stored blob is " +
                              digests.compressed.ToString() + " with " +
                              std::to_string(digests.compressed_size) + " bytes"));
  }
  if (digests.diff_id != diff_id) {
    return Err(Error::Invalid("layer " + layer.digest.ToString() + " uncompresses to " +
                              digests.diff_id.ToString() + ", but the config's diff_id is " +
                              diff_id.ToString()));
  }
  return Ok();
}

Status PrepareLayers(ImportContext& ctx, const PendingImage& image) {
  const Manifest& manifest = image.manifest;
  if (manifest.layers.size() != image.config.diff_ids.size()) {
    return Err(Error::Invalid("the manifest has " + std::to_string(manifest.layers.size()) +
                              " layers but the config has " +
                              std::to_string(image.config.diff_ids.size()) + " diff_ids"));
  }
  if (manifest.layers.size() > kMaxLayers) {
    return Err(Error::Invalid("more than " + std::to_string(kMaxLayers) + " layers"));
  }
  RETURN_IF_ERROR(ctx.lease.Add(image.config.diff_ids));
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    const Digest& diff_id = image.config.diff_ids[i];
    bool verified = image.diff_ids_verified;
    if (ctx.options.unpack_layers) {
      ASSIGN_OR_RETURN(bool unpacked,
                       EnsureLayerTreeChecked(ctx.store, layer, diff_id, ctx.options.unpack));
      verified = verified || unpacked;
    }
    if (!verified) {
      RETURN_IF_ERROR(VerifyDiffId(ctx.store, layer, diff_id));
    }
  }
  return Ok();
}

}  // namespace

Result<std::vector<ImageRecord>> FinishImport(ImportContext& ctx,
                                              std::vector<PendingImage> images) {
  if (images.empty()) {
    return Err(Error::NotFound("no image to import"));
  }
  if (!ctx.options.names.empty() && images.size() > 1) {
    return Err(Error::Invalid(std::to_string(images.size()) +
                              " images in the archive and a name given: select one"));
  }
  // Everything is checked before the first name is given, so a failure names nothing.
  for (const PendingImage& image : images) {
    RETURN_IF_ERROR_CTX(PrepareLayers(ctx, image), "image " + image.manifest_digest.ToString());
  }
  std::vector<ImageRecord> records;
  for (PendingImage& image : images) {
    AddImageOptions add;
    if (ctx.options.names.empty()) {
      add.names = std::move(image.names);
    } else {
      add.names = ctx.options.names;
    }
    add.index_digest = image.index_digest;
    add.source = ctx.source;
    ASSIGN_OR_RETURN(ImageRecord record, ctx.store.AddImage(image.manifest_digest, add));
    records.push_back(std::move(record));
  }
  return records;
}

Result<std::pair<Digest, int64_t>> IngestUnknown(
    ImportContext& ctx,
    const std::function<Status(const std::function<Status(std::string_view)>&)>& produce) {
  ASSIGN_OR_RETURN(BlobWriter writer, ctx.store.BeginUnknownBlob());
  int64_t size = 0;
  Status written = produce([&](std::string_view chunk) -> Status {
    size += static_cast<int64_t>(chunk.size());
    return writer.Write(chunk);
  });
  if (!written) {
    writer.Discard();
    return Err(std::move(written).error());
  }
  ASSIGN_OR_RETURN(Digest digest, writer.Commit(&ctx.lease));
  return std::make_pair(std::move(digest), size);
}

Result<Descriptor> PutDocument(ImportContext& ctx, std::string_view media_type,
                               std::string_view data) {
  Digest digest = Digest::Sha256Of(data);
  RETURN_IF_ERROR(ctx.lease.Add({digest}));
  RETURN_IF_ERROR(ctx.store.PutBlob(data, digest));
  return MakeDescriptor(media_type, std::move(digest), static_cast<int64_t>(data.size()));
}

std::optional<Reference> ParseArchiveName(const Store& store, std::string_view text) {
  // A bare "latest" or "1.0" (umoci, skopeo oci:dir:tag) names no repository.
  if (text.find_first_of("/:@") == std::string_view::npos) {
    return std::nullopt;
  }
  auto reference = ParseReference(text, store.reference_options());
  if (!reference) {
    return std::nullopt;
  }
  return *reference;
}

bool MatchesSelect(const Store& store, std::string_view select, std::string_view name) {
  if (select == name) {
    return true;
  }
  std::optional<Reference> have = ParseArchiveName(store, name);
  if (!have) {
    return false;
  }
  if (have->tag == select) {
    return true;
  }
  auto want = ParseReference(select, store.reference_options());
  return want && *want == *have;
}

Result<std::vector<ImageRecord>> ImportRootfsTarball(ImportContext& ctx, const std::string& path) {
  {
    // Must be a tar, compressed in a way Decompress and the layer media types know.
    ASSIGN_OR_RETURN(TarReader reader, TarReader::Open(path));
    reader.AllowAbsolutePaths();
    RETURN_IF_ERROR(reader.Next());
    std::string filter = reader.FilterName();
    if (filter != "none" && filter != "gzip" && filter != "zstd") {
      return Err(Error::Invalid("rootfs tarball compressed with " + filter +
                                "; only gzip, zstd or none are supported"));
    }
  }
  ASSIGN_OR_RETURN(os::UniqueFd source, os::Open(path, O_RDONLY | O_CLOEXEC));
  ASSIGN_OR_RETURN(auto blob, IngestUnknown(ctx, [&](const auto& write) {
                     return CopyFd(source.get(), write);
                   }));
  ASSIGN_OR_RETURN(os::UniqueFd fd, ctx.store.OpenBlob(blob.first));
  ASSIGN_OR_RETURN(Compression compression, SniffCompression(fd.get()));
  ASSIGN_OR_RETURN(LayerDigests digests,
                   Decompress(fd.get(), compression, [](std::string_view) { return Ok(); }));

  ImageConfig config;
  config.created = FormatRfc3339Nano(Clock::now());
  config.architecture = ctx.options.platform.architecture;
  config.os = ctx.options.platform.os;
  config.variant = ctx.options.platform.variant;
  config.config.env = {std::string(kDefaultPath)};
  config.diff_ids = {digests.diff_id};
  ASSIGN_OR_RETURN(Descriptor config_desc,
                   PutDocument(ctx, media_type::kOciConfig, SerializeImageConfig(config)));
  std::string_view layer_type = compression == Compression::kGzip   ? media_type::kOciLayerGzip
                                : compression == Compression::kZstd ? media_type::kOciLayerZstd
                                                                    : media_type::kOciLayer;
  Manifest manifest{.schema_version = 2,
                    .media_type = std::string(media_type::kOciManifest),
                    .config = config_desc,
                    .layers = {MakeDescriptor(layer_type, blob.first, blob.second)},
                    .annotations = {}};
  ASSIGN_OR_RETURN(Descriptor manifest_desc,
                   PutDocument(ctx, media_type::kOciManifest, SerializeManifest(manifest)));
  std::vector<PendingImage> images;
  images.push_back(PendingImage{.manifest_digest = manifest_desc.digest,
                                .manifest = std::move(manifest),
                                .config = std::move(config),
                                .names = {},
                                .index_digest = std::nullopt,
                                .diff_ids_verified = true});
  return FinishImport(ctx, std::move(images));
}

}  // namespace transfer

Result<std::vector<ImageRecord>> Import(Store& store, const std::string& path,
                                        const ImportOptions& options) {
  bool directory = os::IsDirectory(path);
  if (!directory && !os::Exists(path)) {
    return Err(Error::NotFound(path + ": no such file or directory"));
  }
  ArchiveFormat format = options.format;
  if (format == ArchiveFormat::kDetect) {
    auto detected = transfer::DetectFormat(path, directory);
    if (!detected) {
      return Err(std::move(detected).error().AddContext("importing " + path));
    }
    format = *detected;
  }
  if (directory && format != ArchiveFormat::kOciLayout) {
    return Err(Error::Invalid(path + ": only OCI image layouts are imported from directories"));
  }
  ASSIGN_OR_RETURN(Lease lease, store.TemporaryLease());
  transfer::ImportContext ctx{store, options, std::move(lease), ""};
  Result<std::vector<ImageRecord>> result = Err(Error::Invalid("unknown archive format"));
  switch (format) {
    case ArchiveFormat::kOciLayout:
      ctx.source = (directory ? "oci:" : "oci-archive:") + path;
      result = directory ? transfer::ImportOciDir(ctx, path) : transfer::ImportOciTar(ctx, path);
      break;
    case ArchiveFormat::kDockerArchive:
      ctx.source = "docker-archive:" + path;
      result = transfer::ImportDockerArchive(ctx, path);
      break;
    case ArchiveFormat::kRootfsTarball:
      ctx.source = "tarball:" + path;
      result = transfer::ImportRootfsTarball(ctx, path);
      break;
    case ArchiveFormat::kAci:
      ctx.source = "aci:" + path;
      result = transfer::ImportAci(ctx, path);
      break;
    case ArchiveFormat::kDetect:
      break;
  }
  if (!result) {
    return Err(std::move(result).error().AddContext("importing " + path));
  }
  return result;
}

}  // namespace comet::image
