// Parsing of manifests and indexes (OCI image-spec manifest.md and image-index.md, Docker
// schema 2), kind detection and layer media types. Pure functions; thread-safe.
#include "image/manifest.h"

#include <utility>

#include <fmt/format.h>

#include "image/manifest_json.h"

namespace comet::image {
namespace {

using internal::ChildPath;
using internal::Json;
using internal::PathError;

constexpr std::string_view kSchema1Error = "docker schema 1 manifests are not supported";
constexpr std::string_view kSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view kSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// "type/subtype; charset=utf-8" -> "type/subtype".
std::string_view BareMediaType(std::string_view media_type) {
  media_type = media_type.substr(0, media_type.find(';'));
  while (!media_type.empty() && (media_type.back() == ' ' || media_type.back() == '\t')) {
    media_type.remove_suffix(1);
  }
  while (!media_type.empty() && (media_type.front() == ' ' || media_type.front() == '\t')) {
    media_type.remove_prefix(1);
  }
  return media_type;
}

bool IsSchema1(std::string_view media_type) {
  return media_type == kSchema1 || media_type == kSchema1Signed;
}
bool IsManifestType(std::string_view media_type) {
  return media_type == media_type::kOciManifest || media_type == media_type::kDockerManifest;
}
bool IsIndexType(std::string_view media_type) {
  return media_type == media_type::kOciIndex || media_type == media_type::kDockerManifestList;
}

// Reads "mediaType" and "schemaVersion", rejecting schema 1 and versions other than 2.
Status ReadHeader(const Json& root, int* schema_version, std::string* media_type) {
  RETURN_IF_ERROR(internal::Read(root, "mediaType", "", media_type));
  if (IsSchema1(*media_type)) {
    return Err(Error::Invalid(std::string(kSchema1Error)));
  }
  int64_t version = 0;
  RETURN_IF_ERROR(internal::ReadRequired(root, "schemaVersion", "", &version));
  if (version == 1) {
    return Err(Error::Invalid(std::string(kSchema1Error)));
  }
  if (version != 2) {
    return Err(PathError("schemaVersion", fmt::format("unsupported version {}, want 2", version)));
  }
  *schema_version = 2;
  return Ok();
}

Status ParsePlatformObject(const Json& obj, std::string_view path, Platform* out) {
  RETURN_IF_ERROR(internal::ReadRequired(obj, "architecture", path, &out->architecture));
  RETURN_IF_ERROR(internal::ReadRequired(obj, "os", path, &out->os));
  RETURN_IF_ERROR(internal::Read(obj, "os.version", path, &out->os_version));
  RETURN_IF_ERROR(internal::Read(obj, "os.features", path, &out->os_features));
  return internal::Read(obj, "variant", path, &out->variant);
}

// A descriptor (image-spec descriptor.md): mediaType, digest and size are required.
Result<Descriptor> ParseDescriptor(const Json& obj, std::string_view path) {
  if (!obj.is_object()) {
    return Err(PathError(path, fmt::format("expected object, got {}", obj.type_name())));
  }
  ASSIGN_OR_RETURN(Digest digest, internal::ReadRequiredDigest(obj, "digest", path));
  // Digest has no empty state, so a Descriptor is only ever built whole.
  Descriptor out{.media_type = {},
                 .digest = std::move(digest),
                 .size = 0,
                 .urls = {},
                 .annotations = {},
                 .platform = std::nullopt};
  RETURN_IF_ERROR(internal::ReadRequired(obj, "mediaType", path, &out.media_type));
  RETURN_IF_ERROR(internal::ReadRequired(obj, "size", path, &out.size));
  if (out.size < 0) {
    return Err(PathError(ChildPath(path, "size"), fmt::format("negative size {}", out.size)));
  }
  RETURN_IF_ERROR(internal::Read(obj, "urls", path, &out.urls));
  RETURN_IF_ERROR(internal::Read(obj, "annotations", path, &out.annotations));
  if (const Json* platform = internal::Member(obj, "platform")) {
    std::string platform_path = ChildPath(path, "platform");
    if (!platform->is_object()) {
      return Err(
          PathError(platform_path, fmt::format("expected object, got {}", platform->type_name())));
    }
    out.platform.emplace();
    RETURN_IF_ERROR(ParsePlatformObject(*platform, platform_path, &*out.platform));
  }
  return out;
}

// The required array member `key` of descriptors, at most `limit` of them.
Result<std::vector<Descriptor>> ParseDescriptors(const Json& root, std::string_view key,
                                                 size_t limit) {
  const Json* array = internal::Member(root, key);
  if (array == nullptr) {
    return Err(PathError(key, "missing"));
  }
  if (!array->is_array()) {
    return Err(PathError(key, fmt::format("expected array, got {}", array->type_name())));
  }
  if (array->size() > limit) {
    return Err(
        PathError(key, fmt::format("{} entries, more than the limit of {}", array->size(), limit)));
  }
  std::vector<Descriptor> out;
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    ASSIGN_OR_RETURN(Descriptor descriptor,
                     ParseDescriptor((*array)[i], internal::IndexPath(key, i)));
    out.push_back(std::move(descriptor));
  }
  return out;
}

}  // namespace

Result<DocumentKind> DetectDocumentKind(std::string_view json, std::string_view media_type_hint) {
  std::string_view hint = BareMediaType(media_type_hint);
  if (IsSchema1(hint)) {
    return Err(Error::Invalid(std::string(kSchema1Error)));
  }
  ASSIGN_OR_RETURN(Json root, internal::ParseObject(json, kMaxManifestBytes, "manifest"));
  std::string declared;
  RETURN_IF_ERROR(internal::Read(root, "mediaType", "", &declared));
  const Json* version = internal::Member(root, "schemaVersion");
  if (IsSchema1(declared) || (version != nullptr && *version == 1)) {
    return Err(Error::Invalid(std::string(kSchema1Error)));
  }
  std::optional<DocumentKind> from_hint;
  if (IsManifestType(hint)) {
    from_hint = DocumentKind::kManifest;
  } else if (IsIndexType(hint)) {
    from_hint = DocumentKind::kIndex;
  }
  std::optional<DocumentKind> from_body;
  if (IsManifestType(declared)) {
    from_body = DocumentKind::kManifest;
  } else if (IsIndexType(declared)) {
    from_body = DocumentKind::kIndex;
  }
  // A registry answering with one kind and a body claiming the other is confused or hostile.
  if (from_hint && from_body && *from_hint != *from_body) {
    return Err(
        Error::Invalid(fmt::format(R"(content type "{}" does not match mediaType "{}")",
                                   internal::Printable(hint), internal::Printable(declared))));
  }
  if (from_hint) {
    return *from_hint;
  }
  if (from_body) {
    return *from_body;
  }
  bool has_manifests = internal::Member(root, "manifests") != nullptr;
  bool has_layers =
      internal::Member(root, "layers") != nullptr || internal::Member(root, "config") != nullptr;
  if (has_manifests && !has_layers) {
    return DocumentKind::kIndex;
  }
  if (has_layers && !has_manifests) {
    return DocumentKind::kManifest;
  }
  return Err(Error::Invalid("cannot tell whether the document is a manifest or an index"));
}

Result<Manifest> ParseManifest(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, internal::ParseObject(json, kMaxManifestBytes, "manifest"));
  int schema_version = 0;
  std::string media_type;
  RETURN_IF_ERROR(ReadHeader(root, &schema_version, &media_type));
  if (!media_type.empty() && !IsManifestType(media_type)) {
    return Err(PathError("mediaType", fmt::format("\"{}\" is not an image manifest type",
                                                  internal::Printable(media_type))));
  }
  const Json* config = internal::Member(root, "config");
  if (config == nullptr) {
    return Err(PathError("config", "missing"));
  }
  ASSIGN_OR_RETURN(Descriptor config_descriptor, ParseDescriptor(*config, "config"));
  ASSIGN_OR_RETURN(std::vector<Descriptor> layers, ParseDescriptors(root, "layers", kMaxLayers));
  Manifest out{.schema_version = schema_version,
               .media_type = std::move(media_type),
               .config = std::move(config_descriptor),
               .layers = std::move(layers),
               .annotations = {}};
  RETURN_IF_ERROR(internal::Read(root, "annotations", "", &out.annotations));
  return out;
}

Result<Index> ParseIndex(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, internal::ParseObject(json, kMaxManifestBytes, "index"));
  Index out;
  RETURN_IF_ERROR(ReadHeader(root, &out.schema_version, &out.media_type));
  if (!out.media_type.empty() && !IsIndexType(out.media_type)) {
    return Err(PathError("mediaType", fmt::format("\"{}\" is not an image index type",
                                                  internal::Printable(out.media_type))));
  }
  // The size limit bounds the entry count already; this keeps a platform search cheap.
  constexpr size_t kMaxIndexEntries = 10000;
  ASSIGN_OR_RETURN(out.manifests, ParseDescriptors(root, "manifests", kMaxIndexEntries));
  RETURN_IF_ERROR(internal::Read(root, "annotations", "", &out.annotations));
  return out;
}

Result<Compression> LayerCompression(std::string_view media_type) {
  static constexpr std::pair<std::string_view, Compression> kTypes[] = {
      {media_type::kOciLayer, Compression::kNone},
      {media_type::kOciLayerGzip, Compression::kGzip},
      {media_type::kOciLayerZstd, Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {media_type::kDockerLayerGzip, Compression::kGzip},
      {media_type::kDockerForeignLayerGzip, Compression::kGzip},
      // Uncompressed Docker layers: rare, but containerd knows them too.
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
  };
  for (const auto& [type, compression] : kTypes) {
    if (type == media_type) {
      return compression;
    }
  }
  return Err(Error::Invalid(
      fmt::format("unsupported layer media type \"{}\"", internal::Printable(media_type))));
}

}  // namespace comet::image
