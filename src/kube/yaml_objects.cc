// ReadObjectMeta, ReadConfigMap and ReadSecret: metadata with the API server's name rules
// (generateName included), and the data of ConfigMaps and Secrets, base64 decoded.
#include <random>

#include <fmt/format.h>

#include "base/base64.h"
#include "kube/validation.h"
#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

constexpr size_t kMaxGeneratedPrefix = 58;  // 63 - 5: the API server cuts generateName there
constexpr size_t kMaxAnnotationBytes = size_t{256} << 10;

// The API server's alphabet for generated names: no vowels, nor 0, 1 and 3, so that no word
// (decent or not) comes out.
std::string RandomSuffix() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device device;
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string suffix;
  for (int i = 0; i < 5; ++i) {
    suffix.push_back(kAlphabet[pick(device)]);
  }
  return suffix;
}

Status CheckValid(std::string_view path, const std::optional<std::string>& problem) {
  if (problem) {
    return Err(FieldError(path, *problem));
  }
  return Ok();
}

Status ReadLabels(MapReader& meta, ObjectMeta* out) {
  RETURN_IF_ERROR(meta.Read("labels", &out->labels));
  const std::string path = meta.PathOf("labels");
  for (const auto& [key, value] : out->labels) {
    RETURN_IF_ERROR(CheckValid(path, validation::QualifiedName(key)));
    RETURN_IF_ERROR(CheckValid(Child(path, key), validation::LabelValue(value)));
  }
  RETURN_IF_ERROR(meta.Read("annotations", &out->annotations));
  size_t bytes = 0;
  for (const auto& [key, value] : out->annotations) {
    RETURN_IF_ERROR(CheckValid(meta.PathOf("annotations"), validation::QualifiedName(key)));
    bytes += key.size() + value.size();
  }
  if (bytes > kMaxAnnotationBytes) {
    return Err(FieldError(meta.PathOf("annotations"),
                          fmt::format("{} bytes, more than {}", bytes, kMaxAnnotationBytes)));
  }
  return Ok();
}

// A ConfigMap's or Secret's data keys.
Status CheckKeys(MapReader& root, std::string_view field,
                 const std::map<std::string, std::string>& data) {
  for (const auto& [key, value] : data) {
    RETURN_IF_ERROR(CheckValid(root.PathOf(field), validation::ConfigMapKey(key)));
  }
  return Ok();
}

// Reads the string map `field` of `root` and decodes each value from base64. Values may be
// secret: errors never show them.
Status ReadBase64Map(MapReader& root, std::string_view field,
                     std::map<std::string, std::string>* out) {
  std::map<std::string, std::string> encoded;
  RETURN_IF_ERROR(root.ReadRedacted(field, &encoded));
  RETURN_IF_ERROR(CheckKeys(root, field, encoded));
  for (auto& [key, value] : encoded) {
    auto decoded = Base64Decode(value);
    if (!decoded) {
      return Err(FieldError(Child(root.PathOf(field), key), decoded.error().message()));
    }
    (*out)[key] = std::move(*decoded);
  }
  return Ok();
}

Status ReadMetadata(MapReader& root, ObjectMeta* out) {
  ASSIGN_OR_RETURN(MapReader meta, root.Map("metadata"));
  return ReadObjectMeta(meta, false, out);
}

}  // namespace

Status ReadObjectMeta(MapReader& meta, bool name_optional, ObjectMeta* out) {
  RETURN_IF_ERROR(meta.Read("name", &out->name));
  RETURN_IF_ERROR(meta.Read("generateName", &out->generate_name));
  if (out->name.empty() && !out->generate_name.empty() && !name_optional) {
    out->name = out->generate_name.substr(0, kMaxGeneratedPrefix) + RandomSuffix();
  }
  if (!name_optional) {
    if (out->name.empty()) {
      return Err(FieldError(meta.PathOf("name"), "required (or generateName)"));
    }
    RETURN_IF_ERROR(CheckValid(meta.PathOf("name"), validation::Dns1123Subdomain(out->name)));
  }
  std::string ns;
  RETURN_IF_ERROR(meta.Read("namespace", &ns));
  if (!ns.empty()) {
    RETURN_IF_ERROR(CheckValid(meta.PathOf("namespace"), validation::Dns1123Label(ns)));
    out->namespace_ = ns;
  }
  RETURN_IF_ERROR(meta.Read("uid", &out->uid));
  RETURN_IF_ERROR(ReadLabels(meta, out));
  // Silent: what the API server records about the object's life.
  meta.WarnUnread({"creationTimestamp", "resourceVersion", "managedFields", "ownerReferences",
                   "selfLink", "generation", "finalizers", "deletionTimestamp",
                   "deletionGracePeriodSeconds"});
  return Ok();
}

Status ReadConfigMap(MapReader& root, ConfigMap* out) {
  RETURN_IF_ERROR(ReadMetadata(root, &out->metadata));
  RETURN_IF_ERROR(root.Read("data", &out->data));
  RETURN_IF_ERROR(CheckKeys(root, "data", out->data));
  RETURN_IF_ERROR(ReadBase64Map(root, "binaryData", &out->binary_data));
  for (const auto& [key, value] : out->binary_data) {
    if (out->data.contains(key)) {
      return Err(FieldError(Child(root.PathOf("binaryData"), key), "also set in data"));
    }
  }
  root.WarnUnread({"immutable"});
  return Ok();
}

Status ReadSecret(MapReader& root, Secret* out) {
  RETURN_IF_ERROR(ReadMetadata(root, &out->metadata));
  RETURN_IF_ERROR(root.Read("type", &out->type));
  if (out->type.empty()) {
    out->type = "Opaque";
  }
  RETURN_IF_ERROR(ReadBase64Map(root, "data", &out->data));
  std::map<std::string, std::string> string_data;
  RETURN_IF_ERROR(root.ReadRedacted("stringData", &string_data));
  RETURN_IF_ERROR(CheckKeys(root, "stringData", string_data));
  for (auto& [key, value] : string_data) {
    out->data[key] = std::move(value);  // stringData wins, as the API server merges it
  }
  root.WarnUnread({"immutable"});
  return Ok();
}

}  // namespace comet::kube::yaml
