// ReadVolume: one entry of spec.volumes — hostPath, emptyDir, configMap or secret; the other
// volume types are errors that name them, since a pod without its volume would not be the pod
// asked for. A type given as null (`emptyDir:` with nothing after it) counts as given: it is how
// people write an empty emptyDir, even if the API server would read it as absent.
#include <fmt/format.h>

#include "kube/quantity.h"
#include "kube/validation.h"
#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

constexpr int32_t kMaxMode = 0777;
constexpr int32_t kDefaultMode = 0644;  // the API server's default for configMap and secret

// Volume types of v1.Volume that comet does not provide.
constexpr std::string_view kUnsupported[] = {"persistentVolumeClaim",
                                             "nfs",
                                             "projected",
                                             "downwardAPI",
                                             "ephemeral",
                                             "csi",
                                             "iscsi",
                                             "glusterfs",
                                             "rbd",
                                             "cephfs",
                                             "cinder",
                                             "fc",
                                             "flexVolume",
                                             "flocker",
                                             "gitRepo",
                                             "image",
                                             "awsElasticBlockStore",
                                             "gcePersistentDisk",
                                             "azureDisk",
                                             "azureFile",
                                             "vsphereVolume",
                                             "quobyte",
                                             "photonPersistentDisk",
                                             "portworxVolume",
                                             "scaleIO",
                                             "storageos"};

Status CheckMode(MapReader& reader, std::string_view key, const std::optional<int32_t>& mode) {
  if (mode && (*mode < 0 || *mode > kMaxMode)) {
    return Err(FieldError(reader.PathOf(key),
                          fmt::format("{:#o}: must be a file mode between 0 and 0777", *mode)));
  }
  return Ok();
}

Status ReadHostPath(MapReader& reader, Volume* out) {
  out->kind = VolumeSourceKind::kHostPath;
  RETURN_IF_ERROR(reader.ReadRequired("path", &out->path));
  RETURN_IF_ERROR(CheckAbsolutePath(reader.PathOf("path"), out->path));
  RETURN_IF_ERROR(reader.Read("type", &out->host_path_type));
  RETURN_IF_ERROR(CheckEnum(reader.PathOf("type"), out->host_path_type,
                            {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                             "CharDevice", "BlockDevice"}));
  reader.WarnUnread();
  return Ok();
}

Status ReadEmptyDir(MapReader& reader, Volume* out) {
  out->kind = VolumeSourceKind::kEmptyDir;
  RETURN_IF_ERROR(reader.Read("medium", &out->medium));
  RETURN_IF_ERROR(CheckEnum(reader.PathOf("medium"), out->medium, {"", "Memory"}));
  RETURN_IF_ERROR(reader.ReadQuantity("sizeLimit", &out->size_limit));
  if (!out->size_limit.empty()) {
    auto bytes = ParseQuantityBytes(out->size_limit);
    if (!bytes) {
      return Err(FieldError(reader.PathOf("sizeLimit"), bytes.error().message()));
    }
  }
  reader.WarnUnread();
  return Ok();
}

Status ReadKeyToPath(MapReader& reader, KeyToPath* out) {
  RETURN_IF_ERROR(reader.ReadRequired("key", &out->key));
  if (auto problem = validation::ConfigMapKey(out->key)) {
    return Err(FieldError(reader.PathOf("key"), *problem));
  }
  RETURN_IF_ERROR(reader.ReadRequired("path", &out->path));
  if (auto problem = validation::RelativePath(out->path)) {
    return Err(FieldError(reader.PathOf("path"), *problem));
  }
  if (out->path.starts_with("..")) {
    return Err(FieldError(reader.PathOf("path"), "must not start with \"..\""));
  }
  RETURN_IF_ERROR(reader.Read("mode", &out->mode));
  RETURN_IF_ERROR(CheckMode(reader, "mode", out->mode));
  reader.WarnUnread();
  return Ok();
}

// configMap (its name under "name") or secret ("secretName").
Status ReadKeyVolume(MapReader& reader, std::string_view name_key, Volume* out) {
  RETURN_IF_ERROR(reader.ReadRequired(name_key, &out->source_name));
  if (auto problem = validation::Dns1123Subdomain(out->source_name)) {
    return Err(FieldError(reader.PathOf(name_key), *problem));
  }
  RETURN_IF_ERROR(reader.ForEach("items", [&](MapReader& item, size_t) {
    return ReadKeyToPath(item, &out->items.emplace_back());
  }));
  RETURN_IF_ERROR(reader.Read("defaultMode", &out->default_mode));
  RETURN_IF_ERROR(CheckMode(reader, "defaultMode", out->default_mode));
  if (!out->default_mode) {
    out->default_mode = kDefaultMode;
  }
  RETURN_IF_ERROR(reader.Read("optional", &out->optional));
  reader.WarnUnread();
  return Ok();
}

}  // namespace

Status ReadVolume(MapReader& reader, Volume* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  if (auto problem = validation::Dns1123Label(out->name)) {
    return Err(FieldError(reader.PathOf("name"), *problem));
  }
  for (std::string_view type : kUnsupported) {
    if (reader.Has(type)) {
      return Err(FieldError(reader.path(), fmt::format("volume type {} is not supported", type)));
    }
  }
  int types = 0;
  for (std::string_view type : {"hostPath", "emptyDir", "configMap", "secret"}) {
    if (!reader.Has(type)) {
      continue;
    }
    if (++types > 1) {
      return Err(FieldError(reader.path(), "must have only one volume type"));
    }
    ASSIGN_OR_RETURN(MapReader source, reader.Map(type));
    if (type == "hostPath") {
      RETURN_IF_ERROR(ReadHostPath(source, out));
    } else if (type == "emptyDir") {
      RETURN_IF_ERROR(ReadEmptyDir(source, out));
    } else if (type == "configMap") {
      out->kind = VolumeSourceKind::kConfigMap;
      RETURN_IF_ERROR(ReadKeyVolume(source, "name", out));
    } else {
      out->kind = VolumeSourceKind::kSecret;
      RETURN_IF_ERROR(ReadKeyVolume(source, "secretName", out));
    }
  }
  reader.WarnUnread();
  if (types == 0) {
    return Err(FieldError(reader.path(),
                          "must have a volume type: hostPath, emptyDir, configMap or secret"));
  }
  return Ok();
}

}  // namespace comet::kube::yaml
