// ReadContainer: one v1.Container (ports, env and envFrom, resources, volume mounts) with the API
// server's defaults and checks; probes and hooks are in yaml_probe.cc, the security context in
// yaml_security.cc.
#include <set>

#include <fmt/format.h>

#include "kube/quantity.h"
#include "kube/validation.h"
#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

Status CheckValid(std::string_view path, const std::optional<std::string>& problem) {
  if (problem) {
    return Err(FieldError(path, *problem));
  }
  return Ok();
}

Status ReadPort(MapReader& reader, ContainerPort* out) {
  RETURN_IF_ERROR(reader.Read("name", &out->name));
  RETURN_IF_ERROR(reader.Read("containerPort", &out->container_port));
  RETURN_IF_ERROR(reader.Read("hostPort", &out->host_port));
  RETURN_IF_ERROR(reader.Read("hostIP", &out->host_ip));
  RETURN_IF_ERROR(reader.Read("protocol", &out->protocol));
  reader.WarnUnread();
  if (out->protocol.empty()) {
    out->protocol = "TCP";
  }
  if (out->container_port == 0) {
    return Err(FieldError(reader.PathOf("containerPort"), "required"));
  }
  if (out->container_port < 1 || out->container_port > 65535) {
    return Err(FieldError(reader.PathOf("containerPort"),
                          fmt::format("{}: must be between 1 and 65535", out->container_port)));
  }
  if (out->host_port < 0 || out->host_port > 65535) {
    return Err(FieldError(reader.PathOf("hostPort"),
                          fmt::format("{}: must be between 1 and 65535", out->host_port)));
  }
  RETURN_IF_ERROR(CheckEnum(reader.PathOf("protocol"), out->protocol, {"TCP", "UDP", "SCTP"}));
  if (!out->name.empty()) {
    RETURN_IF_ERROR(CheckValid(reader.PathOf("name"), validation::PortName(out->name)));
  }
  if (!out->host_ip.empty() && !validation::IsIpAddress(out->host_ip)) {
    return Err(FieldError(reader.PathOf("hostIP"),
                          fmt::format("{}: must be an IP address", Quoted(out->host_ip))));
  }
  return Ok();
}

// configMapKeyRef / secretKeyRef (`with_key`), or envFrom's configMapRef / secretRef.
Status ReadKeySelector(MapReader& reader, bool with_key, KeySelector* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  if (with_key) {
    RETURN_IF_ERROR(reader.ReadRequired("key", &out->key));
    RETURN_IF_ERROR(CheckValid(reader.PathOf("key"), validation::ConfigMapKey(out->key)));
  }
  RETURN_IF_ERROR(reader.Read("optional", &out->optional));
  reader.WarnUnread();
  return Ok();
}

// The downward API fields an env var may name (the API server's list for env, not volumes).
Status CheckEnvFieldPath(std::string_view path, std::string_view field_path) {
  static constexpr std::string_view kPlain[] = {"metadata.name",
                                                "metadata.namespace",
                                                "metadata.uid",
                                                "spec.nodeName",
                                                "spec.serviceAccountName",
                                                "status.hostIP",
                                                "status.hostIPs",
                                                "status.podIP",
                                                "status.podIPs"};
  for (std::string_view known : kPlain) {
    if (field_path == known) {
      return Ok();
    }
  }
  for (std::string_view prefix : {"metadata.labels['", "metadata.annotations['"}) {
    if (field_path.starts_with(prefix) && field_path.ends_with("']")) {
      std::string_view key = field_path.substr(prefix.size());
      key.remove_suffix(2);
      return CheckValid(path, validation::QualifiedName(key));
    }
  }
  return Err(FieldError(
      path, fmt::format("{}: not a field an environment variable can read", Quoted(field_path))));
}

Status ReadResourceFieldRef(MapReader& reader, ResourceFieldSelector* out) {
  RETURN_IF_ERROR(reader.Read("containerName", &out->container_name));
  RETURN_IF_ERROR(reader.ReadRequired("resource", &out->resource));
  RETURN_IF_ERROR(reader.ReadQuantity("divisor", &out->divisor));
  reader.WarnUnread();
  const std::string& resource = out->resource;
  const bool cpu = resource == "limits.cpu" || resource == "requests.cpu";
  const bool known =
      cpu || resource == "limits.memory" || resource == "requests.memory" ||
      resource == "limits.ephemeral-storage" || resource == "requests.ephemeral-storage" ||
      resource.starts_with("limits.hugepages-") || resource.starts_with("requests.hugepages-");
  if (!known) {
    return Err(FieldError(
        reader.PathOf("resource"),
        fmt::format("{}: not a resource an environment variable can read", Quoted(resource))));
  }
  if (!out->divisor.empty()) {
    auto divisor = cpu ? ParseCpuMillis(out->divisor) : ParseQuantityBytes(out->divisor);
    if (!divisor) {
      return Err(FieldError(reader.PathOf("divisor"), divisor.error().message()));
    }
    if (*divisor <= 0) {
      return Err(FieldError(reader.PathOf("divisor"),
                            fmt::format("{}: must be positive", Quoted(out->divisor))));
    }
  }
  return Ok();
}

Status ReadEnvVarSource(MapReader& reader, EnvVarSource* out) {
  int sources = 0;
  if (reader.Find("fieldRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("fieldRef"));
    ObjectFieldSelector& selector = out->field_ref.emplace();
    std::string api_version;
    RETURN_IF_ERROR(ref.Read("apiVersion", &api_version));
    RETURN_IF_ERROR(ref.ReadRequired("fieldPath", &selector.field_path));
    ref.WarnUnread();
    if (!api_version.empty() && api_version != "v1") {
      return Err(FieldError(ref.PathOf("apiVersion"),
                            fmt::format("{}: only v1 is supported", Quoted(api_version))));
    }
    RETURN_IF_ERROR(CheckEnvFieldPath(ref.PathOf("fieldPath"), selector.field_path));
    ++sources;
  }
  if (reader.Find("resourceFieldRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("resourceFieldRef"));
    RETURN_IF_ERROR(ReadResourceFieldRef(ref, &out->resource_field_ref.emplace()));
    ++sources;
  }
  if (reader.Find("configMapKeyRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("configMapKeyRef"));
    RETURN_IF_ERROR(ReadKeySelector(ref, true, &out->config_map_key_ref.emplace()));
    ++sources;
  }
  if (reader.Find("secretKeyRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("secretKeyRef"));
    RETURN_IF_ERROR(ReadKeySelector(ref, true, &out->secret_key_ref.emplace()));
    ++sources;
  }
  reader.WarnUnread();
  if (sources != 1) {
    return Err(FieldError(reader.path(), sources == 0
                                             ? "must have one of fieldRef, resourceFieldRef, "
                                               "configMapKeyRef or secretKeyRef"
                                             : "must have only one of fieldRef, resourceFieldRef, "
                                               "configMapKeyRef and secretKeyRef"));
  }
  return Ok();
}

Status ReadEnvVar(MapReader& reader, EnvVar* out) {
  RETURN_IF_ERROR(reader.Read("name", &out->name));
  RETURN_IF_ERROR(CheckValid(reader.PathOf("name"), validation::EnvVarName(out->name)));
  RETURN_IF_ERROR(reader.ReadRedacted("value", &out->value));
  if (reader.Find("valueFrom") != nullptr) {
    if (!out->value.empty()) {
      return Err(FieldError(reader.PathOf("valueFrom"), "may not be set when value is not empty"));
    }
    ASSIGN_OR_RETURN(MapReader from, reader.Map("valueFrom"));
    RETURN_IF_ERROR(ReadEnvVarSource(from, &out->value_from.emplace()));
  }
  reader.WarnUnread();
  return Ok();
}

Status ReadEnvFrom(MapReader& reader, EnvFromSource* out) {
  RETURN_IF_ERROR(reader.Read("prefix", &out->prefix));
  if (!out->prefix.empty()) {
    RETURN_IF_ERROR(CheckValid(reader.PathOf("prefix"), validation::EnvVarName(out->prefix)));
  }
  if (reader.Find("configMapRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("configMapRef"));
    RETURN_IF_ERROR(ReadKeySelector(ref, false, &out->config_map_ref.emplace()));
  }
  if (reader.Find("secretRef") != nullptr) {
    ASSIGN_OR_RETURN(MapReader ref, reader.Map("secretRef"));
    RETURN_IF_ERROR(ReadKeySelector(ref, false, &out->secret_ref.emplace()));
  }
  reader.WarnUnread();
  if (out->config_map_ref.has_value() == out->secret_ref.has_value()) {
    return Err(FieldError(reader.path(), "must have exactly one of configMapRef and secretRef"));
  }
  return Ok();
}

// A resource's quantity as an integer: millicores for cpu, bytes for memory, storage and huge
// pages, the value for the rest (device counts).
Result<int64_t> ParseResource(std::string_view name, std::string_view quantity) {
  if (name == "cpu") {
    return ParseCpuMillis(quantity);
  }
  if (name == "memory" || name == "ephemeral-storage" || name.starts_with("hugepages-")) {
    return ParseQuantityBytes(quantity);
  }
  return ParseQuantityValue(quantity);
}

// Standard names, or extended resources, which have a domain ("nvidia.com/gpu").
Status CheckResourceName(std::string_view path, std::string_view name) {
  if (name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
      name.starts_with("hugepages-")) {
    return Ok();
  }
  const size_t slash = name.find('/');
  if (slash != std::string_view::npos && !validation::QualifiedName(name) &&
      name.substr(0, slash).find('.') != std::string_view::npos) {
    return Ok();
  }
  return Err(FieldError(path,
                        "must be cpu, memory, ephemeral-storage, hugepages-<size> or a "
                        "resource with a domain (nvidia.com/gpu)"));
}

Status ReadResources(MapReader& reader, ResourceRequirements* out) {
  RETURN_IF_ERROR(reader.ReadQuantities("limits", &out->limits));
  RETURN_IF_ERROR(reader.ReadQuantities("requests", &out->requests));
  reader.WarnUnread();
  std::map<std::string, int64_t> limits;
  for (const auto& [which, quantities] :
       {std::pair{"limits", &out->limits}, std::pair{"requests", &out->requests}}) {
    for (const auto& [name, quantity] : *quantities) {
      const std::string path = Child(reader.PathOf(which), name);
      RETURN_IF_ERROR(CheckResourceName(path, name));
      auto value = ParseResource(name, quantity);
      if (!value) {
        return Err(FieldError(path, value.error().message()));
      }
      if (quantities == &out->limits) {
        limits[name] = *value;
      } else if (auto limit = limits.find(name); limit != limits.end() && *value > limit->second) {
        return Err(FieldError(path, fmt::format("\"{}\": must be less than or equal to the {} "
                                                "limit \"{}\"",
                                                quantity, name, out->limits[name])));
      }
    }
  }
  return Ok();
}

Status ReadVolumeMount(MapReader& reader, VolumeMount* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  RETURN_IF_ERROR(reader.ReadRequired("mountPath", &out->mount_path));
  RETURN_IF_ERROR(CheckAbsolutePath(reader.PathOf("mountPath"), out->mount_path));
  RETURN_IF_ERROR(reader.Read("subPath", &out->sub_path));
  if (!out->sub_path.empty()) {
    RETURN_IF_ERROR(CheckValid(reader.PathOf("subPath"), validation::RelativePath(out->sub_path)));
  }
  RETURN_IF_ERROR(reader.Read("readOnly", &out->read_only));
  std::string propagation;
  RETURN_IF_ERROR(reader.Read("mountPropagation", &propagation));
  if (!propagation.empty() && propagation != "None") {
    RETURN_IF_ERROR(CheckEnum(reader.PathOf("mountPropagation"), propagation,
                              {"None", "HostToContainer", "Bidirectional"}));
    reader.context()->Warn(reader.PathOf("mountPropagation") + ": not supported, ignored");
  }
  reader.WarnUnread();
  return Ok();
}

Status ReadVolumeDevice(MapReader& reader, VolumeDevice* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  RETURN_IF_ERROR(reader.ReadRequired("devicePath", &out->device_path));
  reader.WarnUnread();
  reader.context()->Warn(reader.path() + ": raw block volumes are not supported, ignored");
  return Ok();
}

// ports, envFrom, env and resources.
Status ReadPortsAndEnv(MapReader& reader, Container* out) {
  RETURN_IF_ERROR(reader.ForEach("ports", [&](MapReader& item, size_t) {
    return ReadPort(item, &out->ports.emplace_back());
  }));
  std::set<std::string> port_names;
  for (size_t i = 0; i < out->ports.size(); ++i) {
    if (!out->ports[i].name.empty() && !port_names.insert(out->ports[i].name).second) {
      return Err(FieldError(Child(Indexed(reader.PathOf("ports"), i), "name"),
                            fmt::format("\"{}\": duplicate port name", out->ports[i].name)));
    }
  }
  RETURN_IF_ERROR(reader.ForEach("envFrom", [&](MapReader& item, size_t) {
    return ReadEnvFrom(item, &out->env_from.emplace_back());
  }));
  RETURN_IF_ERROR(reader.ForEach(
      "env", [&](MapReader& item, size_t) { return ReadEnvVar(item, &out->env.emplace_back()); }));
  ASSIGN_OR_RETURN(MapReader resources, reader.Map("resources"));
  return ReadResources(resources, &out->resources);
}

Status ReadMounts(MapReader& reader, Container* out) {
  std::set<std::string> mount_paths;
  auto read_mount = [&](MapReader& item, size_t) -> Status {
    VolumeMount& mount = out->volume_mounts.emplace_back();
    RETURN_IF_ERROR(ReadVolumeMount(item, &mount));
    if (!mount_paths.insert(mount.mount_path).second) {
      return Err(FieldError(item.PathOf("mountPath"),
                            fmt::format("{}: mounted twice", Quoted(mount.mount_path))));
    }
    return Ok();
  };
  RETURN_IF_ERROR(reader.ForEach("volumeMounts", read_mount));
  return reader.ForEach("volumeDevices", [&](MapReader& item, size_t) {
    return ReadVolumeDevice(item, &out->volume_devices.emplace_back());
  });
}

// Probes, lifecycle hooks and the security context.
Status ReadProbesAndSecurity(MapReader& reader, Container* out) {
  for (const auto& [key, probe] : {std::pair{"livenessProbe", &out->liveness_probe},
                                   std::pair{"readinessProbe", &out->readiness_probe},
                                   std::pair{"startupProbe", &out->startup_probe}}) {
    if (reader.Find(key) != nullptr) {
      ASSIGN_OR_RETURN(MapReader item, reader.Map(key));
      RETURN_IF_ERROR(ReadProbe(item, std::string_view(key) != "readinessProbe", probe));
    }
  }
  if (reader.Find("lifecycle") != nullptr) {
    ASSIGN_OR_RETURN(MapReader item, reader.Map("lifecycle"));
    RETURN_IF_ERROR(ReadLifecycle(item, &out->lifecycle.emplace()));
  }
  if (reader.Find("securityContext") != nullptr) {
    ASSIGN_OR_RETURN(MapReader item, reader.Map("securityContext"));
    RETURN_IF_ERROR(ReadSecurityContext(item, &out->security_context.emplace()));
  }
  return Ok();
}

// restartPolicy makes an init container a sidecar, which alone may have probes and hooks.
Status CheckRestartPolicy(MapReader& reader, bool init, const Container& container) {
  if (!container.restart_policy.empty()) {
    if (!init) {
      return Err(FieldError(reader.PathOf("restartPolicy"),
                            "may only be set on init containers (sidecars)"));
    }
    return CheckEnum(reader.PathOf("restartPolicy"), container.restart_policy, {"Always"});
  }
  if (!init) {
    return Ok();
  }
  for (const auto& [key, set] : {std::pair{"lifecycle", container.lifecycle.has_value()},
                                 std::pair{"livenessProbe", container.liveness_probe.has_value()},
                                 std::pair{"readinessProbe", container.readiness_probe.has_value()},
                                 std::pair{"startupProbe", container.startup_probe.has_value()}}) {
    if (set) {
      return Err(FieldError(reader.PathOf(key),
                            "may not be set on init containers (but sidecars: restartPolicy "
                            "Always)"));
    }
  }
  return Ok();
}

}  // namespace

Status ReadContainer(MapReader& reader, bool init, Container* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  RETURN_IF_ERROR(CheckValid(reader.PathOf("name"), validation::Dns1123Label(out->name)));
  RETURN_IF_ERROR(reader.ReadRequired("image", &out->image));
  if (out->image.find_first_of(" \t\r\n") != std::string::npos) {
    return Err(FieldError(reader.PathOf("image"), "must not contain whitespace"));
  }
  RETURN_IF_ERROR(reader.Read("imagePullPolicy", &out->image_pull_policy));
  if (!out->image_pull_policy.empty()) {
    RETURN_IF_ERROR(CheckEnum(reader.PathOf("imagePullPolicy"), out->image_pull_policy,
                              {"Always", "IfNotPresent", "Never"}));
  }
  RETURN_IF_ERROR(reader.Read("command", &out->command));
  RETURN_IF_ERROR(reader.Read("args", &out->args));
  RETURN_IF_ERROR(reader.Read("workingDir", &out->working_dir));
  RETURN_IF_ERROR(ReadPortsAndEnv(reader, out));
  RETURN_IF_ERROR(ReadMounts(reader, out));
  RETURN_IF_ERROR(ReadProbesAndSecurity(reader, out));
  RETURN_IF_ERROR(reader.Read("terminationMessagePath", &out->termination_message_path));
  if (out->termination_message_path.empty()) {
    out->termination_message_path = "/dev/termination-log";
  }
  RETURN_IF_ERROR(reader.Read("stdin", &out->stdin));
  RETURN_IF_ERROR(reader.Read("stdinOnce", &out->stdin_once));
  RETURN_IF_ERROR(reader.Read("tty", &out->tty));
  RETURN_IF_ERROR(reader.Read("restartPolicy", &out->restart_policy));
  // Silent: terminationMessagePolicy (where a failed container's message comes from; comet keeps
  // none), which the API server always fills in.
  reader.WarnUnread({"terminationMessagePolicy"});
  return CheckRestartPolicy(reader, init, *out);
}

}  // namespace comet::kube::yaml
