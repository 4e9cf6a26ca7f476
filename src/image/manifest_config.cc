// Image configs (OCI image-spec config.md; Docker's config is a superset with the same names):
// parsing the parts comet uses, and writing a complete OCI config. Pure functions; thread-safe.
#include <utility>

#include <fmt/format.h>

#include "image/manifest.h"
#include "image/manifest_json.h"

namespace comet::image {
namespace {

using internal::Json;
using internal::OrderedJson;
using internal::PathError;

Status ParseProcess(const Json& obj, std::string_view path, ImageConfig::Process* out) {
  RETURN_IF_ERROR(internal::Read(obj, "User", path, &out->user));
  RETURN_IF_ERROR(internal::Read(obj, "Env", path, &out->env));
  RETURN_IF_ERROR(internal::Read(obj, "Entrypoint", path, &out->entrypoint));
  RETURN_IF_ERROR(internal::Read(obj, "Cmd", path, &out->cmd));
  RETURN_IF_ERROR(internal::Read(obj, "WorkingDir", path, &out->working_dir));
  RETURN_IF_ERROR(internal::Read(obj, "Labels", path, &out->labels));
  RETURN_IF_ERROR(internal::ReadKeySet(obj, "ExposedPorts", path, &out->exposed_ports));
  RETURN_IF_ERROR(internal::ReadKeySet(obj, "Volumes", path, &out->volumes));
  return internal::Read(obj, "StopSignal", path, &out->stop_signal);
}

// rootfs: {"type": "layers", "diff_ids": [...]}, both required.
Status ParseRootfs(const Json& root, ImageConfig* out) {
  const Json* rootfs = internal::Member(root, "rootfs");
  if (rootfs == nullptr) {
    return Err(PathError("rootfs", "missing"));
  }
  if (!rootfs->is_object()) {
    return Err(PathError("rootfs", fmt::format("expected object, got {}", rootfs->type_name())));
  }
  std::string type;
  RETURN_IF_ERROR(internal::ReadRequired(*rootfs, "type", "rootfs", &type));
  if (type != "layers") {
    return Err(PathError("rootfs.type",
                         fmt::format(R"("{}" is not "layers")", internal::Printable(type))));
  }
  const Json* diff_ids = internal::Member(*rootfs, "diff_ids");
  if (diff_ids == nullptr) {
    return Err(PathError("rootfs.diff_ids", "missing"));
  }
  if (!diff_ids->is_array()) {
    return Err(
        PathError("rootfs.diff_ids", fmt::format("expected array, got {}", diff_ids->type_name())));
  }
  if (diff_ids->size() > kMaxLayers) {
    return Err(PathError("rootfs.diff_ids", fmt::format("{} entries, more than the limit of {}",
                                                        diff_ids->size(), kMaxLayers)));
  }
  for (size_t i = 0; i < diff_ids->size(); ++i) {
    std::string element_path = internal::IndexPath("rootfs.diff_ids", i);
    const Json& element = (*diff_ids)[i];
    if (!element.is_string()) {
      return Err(
          PathError(element_path, fmt::format("expected string, got {}", element.type_name())));
    }
    auto digest = Digest::Parse(element.get_ref<const std::string&>());
    if (!digest) {
      return Err(PathError(element_path, digest.error().message()));
    }
    out->diff_ids.push_back(*std::move(digest));
  }
  return Ok();
}

void PutString(OrderedJson& obj, const char* key, const std::string& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}

void PutStrings(OrderedJson& obj, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) {
    obj[key] = values;
  }
}

// {"80/tcp": {}, ...}: the Go encoding of a set.
void PutKeySet(OrderedJson& obj, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) {
    return;
  }
  OrderedJson set = OrderedJson::object();
  for (const auto& value : values) {
    set[value] = OrderedJson::object();
  }
  obj[key] = std::move(set);
}

OrderedJson ProcessToJson(const ImageConfig::Process& process) {
  OrderedJson out = OrderedJson::object();
  PutString(out, "User", process.user);
  PutKeySet(out, "ExposedPorts", process.exposed_ports);
  PutStrings(out, "Env", process.env);
  PutStrings(out, "Entrypoint", process.entrypoint);
  PutStrings(out, "Cmd", process.cmd);
  PutKeySet(out, "Volumes", process.volumes);
  PutString(out, "WorkingDir", process.working_dir);
  if (!process.labels.empty()) {
    out["Labels"] = process.labels;
  }
  PutString(out, "StopSignal", process.stop_signal);
  return out;
}

}  // namespace

Result<ImageConfig> ParseImageConfig(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, internal::ParseObject(json, kMaxConfigBytes, "image config"));
  ImageConfig out;
  RETURN_IF_ERROR(internal::Read(root, "created", "", &out.created));
  RETURN_IF_ERROR(internal::Read(root, "author", "", &out.author));
  RETURN_IF_ERROR(internal::ReadRequired(root, "architecture", "", &out.architecture));
  RETURN_IF_ERROR(internal::ReadRequired(root, "os", "", &out.os));
  RETURN_IF_ERROR(internal::Read(root, "variant", "", &out.variant));
  if (const Json* config = internal::Member(root, "config")) {
    if (!config->is_object()) {
      return Err(PathError("config", fmt::format("expected object, got {}", config->type_name())));
    }
    RETURN_IF_ERROR(ParseProcess(*config, "config", &out.config));
  }
  RETURN_IF_ERROR(ParseRootfs(root, &out));
  return out;
}

std::string SerializeImageConfig(const ImageConfig& config) {
  OrderedJson out = OrderedJson::object();
  PutString(out, "created", config.created);
  PutString(out, "author", config.author);
  out["architecture"] = config.architecture;
  PutString(out, "variant", config.variant);
  out["os"] = config.os;
  OrderedJson process = ProcessToJson(config.config);
  if (!process.empty()) {
    out["config"] = std::move(process);
  }
  OrderedJson diff_ids = OrderedJson::array();
  for (const auto& digest : config.diff_ids) {
    diff_ids.push_back(digest.ToString());
  }
  out["rootfs"] = {{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
  return internal::Dump(out);
}

}  // namespace comet::image
