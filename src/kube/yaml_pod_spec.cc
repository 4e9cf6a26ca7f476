// ReadPodSpec: a v1.PodSpec with the API server's defaults and the checks that span its parts
// (unique names, mounts of declared volumes, host ports), plus the field checks the other parts
// share.
//
// Fields comet does not act on: those the API server or its admission plugins write into every
// pod (schedulerName, tolerations, priority, preemptionPolicy, enableServiceLinks,
// serviceAccount, automountServiceAccountToken, ...) are ignored silently, so that the output of
// `kubectl get pod -o yaml` reads without noise; those a user writes on purpose (affinity,
// nodeSelector, imagePullSecrets, runtimeClassName, ...) get a warning naming them.
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/validation.h"
#include "kube/yaml_parse_internal.h"

namespace comet::kube::yaml {
namespace {

constexpr size_t kMaxNameservers = 3;  // the API server's limits for dnsConfig
constexpr size_t kMaxSearches = 32;

Status CheckName(std::string_view path, const std::optional<std::string>& problem) {
  if (problem) {
    return Err(FieldError(path, *problem));
  }
  return Ok();
}

Status ReadDnsOption(MapReader& reader, PodDnsConfigOption* out) {
  RETURN_IF_ERROR(reader.ReadRequired("name", &out->name));
  RETURN_IF_ERROR(reader.Read("value", &out->value));
  reader.WarnUnread();
  return Ok();
}

Status ReadHostAlias(MapReader& reader, HostAlias* out) {
  RETURN_IF_ERROR(reader.ReadRequired("ip", &out->ip));
  if (!validation::IsIpAddress(out->ip)) {
    return Err(FieldError(reader.PathOf("ip"),
                          fmt::format("\"{}\": must be an IP address", Printable(out->ip, 80))));
  }
  RETURN_IF_ERROR(reader.Read("hostnames", &out->hostnames));
  reader.WarnUnread();
  return Ok();
}

Status ReadDnsConfig(MapReader& reader, PodDnsConfig* out) {
  RETURN_IF_ERROR(reader.Read("nameservers", &out->nameservers));
  if (out->nameservers.size() > kMaxNameservers) {
    return Err(FieldError(reader.PathOf("nameservers"),
                          fmt::format("must have at most {} addresses", kMaxNameservers)));
  }
  for (size_t i = 0; i < out->nameservers.size(); ++i) {
    if (!validation::IsIpAddress(out->nameservers[i])) {
      return Err(FieldError(
          Indexed(reader.PathOf("nameservers"), i),
          fmt::format("\"{}\": must be an IP address", Printable(out->nameservers[i], 80))));
    }
  }
  RETURN_IF_ERROR(reader.Read("searches", &out->searches));
  if (out->searches.size() > kMaxSearches) {
    return Err(FieldError(reader.PathOf("searches"),
                          fmt::format("must have at most {} domains", kMaxSearches)));
  }
  RETURN_IF_ERROR(reader.ForEach("options", [&](MapReader& item, size_t) {
    return ReadDnsOption(item, &out->options.emplace_back());
  }));
  reader.WarnUnread();
  return Ok();
}

Status ReadPodSecurityContext(MapReader& reader, PodSecurityContext* out) {
  RETURN_IF_ERROR(reader.Read("runAsUser", &out->run_as_user));
  RETURN_IF_ERROR(reader.Read("runAsGroup", &out->run_as_group));
  RETURN_IF_ERROR(reader.Read("runAsNonRoot", &out->run_as_non_root));
  RETURN_IF_ERROR(reader.Read("supplementalGroups", &out->supplemental_groups));
  RETURN_IF_ERROR(reader.Read("fsGroup", &out->fs_group));
  for (const auto& [key, id] :
       {std::pair{"runAsUser", out->run_as_user}, std::pair{"runAsGroup", out->run_as_group},
        std::pair{"fsGroup", out->fs_group}}) {
    if (id && (*id < 0 || *id > 2147483647)) {
      return Err(
          FieldError(reader.PathOf(key), fmt::format("{}: must be between 0 and 2147483647", *id)));
    }
  }
  for (size_t i = 0; i < out->supplemental_groups.size(); ++i) {
    const int64_t id = out->supplemental_groups[i];
    if (id < 0 || id > 2147483647) {
      return Err(FieldError(Indexed(reader.PathOf("supplementalGroups"), i),
                            fmt::format("{}: must be between 0 and 2147483647", id)));
    }
  }
  if (reader.Find("seccompProfile") != nullptr) {
    ASSIGN_OR_RETURN(MapReader seccomp, reader.Map("seccompProfile"));
    RETURN_IF_ERROR(ReadSeccompProfile(seccomp, &out->seccomp_profile.emplace()));
  }
  auto read_sysctl = [&](MapReader& item, size_t) -> Status {
    std::string name;
    std::string value;
    RETURN_IF_ERROR(item.ReadRequired("name", &name));
    RETURN_IF_ERROR(item.Read("value", &value));
    item.WarnUnread();
    if (!out->sysctls.emplace(name, value).second) {
      return Err(FieldError(item.PathOf("name"), fmt::format("{}: set twice", Quoted(name))));
    }
    return Ok();
  };
  RETURN_IF_ERROR(reader.ForEach("sysctls", read_sysctl));
  reader.WarnUnread({"windowsOptions"});
  return Ok();
}

Status ReadContainers(MapReader& spec, std::string_view key, bool init,
                      std::vector<Container>* out) {
  return spec.ForEach(key, [&](MapReader& item, size_t) {
    return ReadContainer(item, init, &out->emplace_back());
  });
}

// A container's mounts name declared volumes; its host ports are free and, with host networking,
// the container's own (the API server defaults hostPort to containerPort there).
Status CheckContainerRefs(const std::string& path, const std::set<std::string>& volumes,
                          bool host_network, std::set<std::string>* host_ports,
                          Container* container) {
  for (size_t m = 0; m < container->volume_mounts.size(); ++m) {
    const std::string& volume = container->volume_mounts[m].name;
    if (!volumes.contains(volume)) {
      return Err(FieldError(Child(Indexed(Child(path, "volumeMounts"), m), "name"),
                            fmt::format("volume {} not found", Quoted(volume))));
    }
  }
  for (size_t p = 0; p < container->ports.size(); ++p) {
    ContainerPort& port = container->ports[p];
    const std::string port_path = Indexed(Child(path, "ports"), p);
    if (host_network && port.host_port == 0) {
      port.host_port = port.container_port;
    }
    if (host_network && port.host_port != port.container_port) {
      return Err(
          FieldError(Child(port_path, "hostPort"), "must equal containerPort with hostNetwork"));
    }
    if (port.host_port != 0 &&
        !host_ports->insert(fmt::format("{}/{}/{}", port.host_ip, port.host_port, port.protocol))
             .second) {
      return Err(FieldError(
          Child(port_path, "hostPort"),
          fmt::format("{}/{}: taken by another port of the pod", port.host_port, port.protocol)));
    }
  }
  return Ok();
}

// resourceFieldRef.containerName names a container of the pod.
Status CheckResourceRefs(const std::string& path, const std::set<std::string>& names,
                         const Container& container) {
  for (size_t e = 0; e < container.env.size(); ++e) {
    const EnvVar& env = container.env[e];
    if (!env.value_from || !env.value_from->resource_field_ref) {
      continue;
    }
    const std::string& name = env.value_from->resource_field_ref->container_name;
    if (!name.empty() && !names.contains(name)) {
      return Err(
          FieldError(Indexed(Child(path, "env"), e) + ".valueFrom.resourceFieldRef.containerName",
                     fmt::format("container {} not found", Quoted(name))));
    }
  }
  return Ok();
}

// What spans containers and volumes: unique names, mounts of declared volumes, resource
// references to existing containers, host ports.
Status CheckPodWide(MapReader& spec, PodSpec* out) {
  std::set<std::string> volumes;
  for (size_t i = 0; i < out->volumes.size(); ++i) {
    if (!volumes.insert(out->volumes[i].name).second) {
      return Err(FieldError(Child(Indexed(spec.PathOf("volumes"), i), "name"),
                            fmt::format("\"{}\": duplicate volume name", out->volumes[i].name)));
    }
  }
  const std::pair<const char*, std::vector<Container>*> lists[] = {
      {"initContainers", &out->init_containers}, {"containers", &out->containers}};
  std::set<std::string> names;
  std::set<std::string> host_ports;
  for (const auto& [key, containers] : lists) {
    for (size_t i = 0; i < containers->size(); ++i) {
      Container& container = (*containers)[i];
      const std::string path = Indexed(spec.PathOf(key), i);
      if (!names.insert(container.name).second) {
        return Err(FieldError(Child(path, "name"),
                              fmt::format("\"{}\": duplicate container name", container.name)));
      }
      RETURN_IF_ERROR(
          CheckContainerRefs(path, volumes, out->host_network, &host_ports, &container));
    }
  }
  for (const auto& [key, containers] : lists) {
    for (size_t i = 0; i < containers->size(); ++i) {
      RETURN_IF_ERROR(CheckResourceRefs(Indexed(spec.PathOf(key), i), names, (*containers)[i]));
    }
  }
  return Ok();
}

}  // namespace

Status CheckEnum(std::string_view path, std::string_view value,
                 std::initializer_list<std::string_view> allowed) {
  for (std::string_view candidate : allowed) {
    if (value == candidate) {
      return Ok();
    }
  }
  std::vector<std::string> quoted;
  for (std::string_view candidate : allowed) {
    quoted.push_back(fmt::format("\"{}\"", candidate));
  }
  return Err(FieldError(
      path, fmt::format("\"{}\": must be one of {}", Printable(value, 80), Join(quoted, ", "))));
}

Status CheckAbsolutePath(std::string_view path, std::string_view value) {
  if (!value.starts_with('/')) {
    return Err(FieldError(path, "must be absolute"));
  }
  for (std::string_view part : Split(value, '/')) {
    if (part == "..") {
      return Err(FieldError(path, "must not contain \"..\""));
    }
  }
  return Ok();
}

Status CheckPortOrName(std::string_view path, std::string_view value) {
  if (auto number = ParseInt(value)) {
    if (*number < 1 || *number > 65535) {
      return Err(FieldError(path, fmt::format("{}: must be between 1 and 65535", *number)));
    }
    return Ok();
  }
  return CheckName(path, validation::PortName(value));
}

Status ReadPodSpec(MapReader& spec, PodSpec* out) {
  RETURN_IF_ERROR(spec.ForEach("volumes", [&](MapReader& item, size_t) {
    return ReadVolume(item, &out->volumes.emplace_back());
  }));
  RETURN_IF_ERROR(ReadContainers(spec, "initContainers", true, &out->init_containers));
  RETURN_IF_ERROR(ReadContainers(spec, "containers", false, &out->containers));
  if (out->containers.empty()) {
    return Err(FieldError(spec.PathOf("containers"), "required (at least one container)"));
  }
  RETURN_IF_ERROR(spec.Read("restartPolicy", &out->restart_policy));
  if (out->restart_policy.empty()) {
    out->restart_policy = "Always";
  }
  RETURN_IF_ERROR(CheckEnum(spec.PathOf("restartPolicy"), out->restart_policy,
                            {"Always", "OnFailure", "Never"}));
  RETURN_IF_ERROR(
      spec.Read("terminationGracePeriodSeconds", &out->termination_grace_period_seconds));
  if (out->termination_grace_period_seconds < 0) {
    return Err(FieldError(spec.PathOf("terminationGracePeriodSeconds"), "must not be negative"));
  }
  RETURN_IF_ERROR(spec.Read("activeDeadlineSeconds", &out->active_deadline_seconds));
  if (out->active_deadline_seconds && *out->active_deadline_seconds < 1) {
    return Err(FieldError(spec.PathOf("activeDeadlineSeconds"), "must be positive"));
  }
  RETURN_IF_ERROR(spec.Read("dnsPolicy", &out->dns_policy));
  if (out->dns_policy.empty()) {
    out->dns_policy = "ClusterFirst";
  }
  RETURN_IF_ERROR(CheckEnum(spec.PathOf("dnsPolicy"), out->dns_policy,
                            {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}));
  if (spec.Find("dnsConfig") != nullptr) {
    ASSIGN_OR_RETURN(MapReader dns, spec.Map("dnsConfig"));
    RETURN_IF_ERROR(ReadDnsConfig(dns, &out->dns_config.emplace()));
  }
  if (out->dns_policy == "None" && (!out->dns_config || out->dns_config->nameservers.empty())) {
    return Err(FieldError(spec.PathOf("dnsConfig"), "nameservers required when dnsPolicy is None"));
  }
  RETURN_IF_ERROR(spec.Read("nodeName", &out->node_name));
  RETURN_IF_ERROR(spec.Read("serviceAccountName", &out->service_account_name));
  if (out->service_account_name.empty()) {  // its deprecated spelling
    RETURN_IF_ERROR(spec.Read("serviceAccount", &out->service_account_name));
  }
  RETURN_IF_ERROR(spec.Read("hostNetwork", &out->host_network));
  RETURN_IF_ERROR(spec.Read("hostPID", &out->host_pid));
  RETURN_IF_ERROR(spec.Read("hostIPC", &out->host_ipc));
  RETURN_IF_ERROR(spec.Read("shareProcessNamespace", &out->share_process_namespace));
  if (out->host_pid && out->share_process_namespace) {
    return Err(FieldError(spec.PathOf("shareProcessNamespace"), "may not be true with hostPID"));
  }
  RETURN_IF_ERROR(spec.Read("hostname", &out->hostname));
  if (!out->hostname.empty()) {
    RETURN_IF_ERROR(CheckName(spec.PathOf("hostname"), validation::Dns1123Label(out->hostname)));
  }
  RETURN_IF_ERROR(spec.Read("subdomain", &out->subdomain));
  if (!out->subdomain.empty()) {
    RETURN_IF_ERROR(CheckName(spec.PathOf("subdomain"), validation::Dns1123Label(out->subdomain)));
  }
  RETURN_IF_ERROR(spec.ForEach("hostAliases", [&](MapReader& item, size_t) {
    return ReadHostAlias(item, &out->host_aliases.emplace_back());
  }));
  if (spec.Find("securityContext") != nullptr) {
    ASSIGN_OR_RETURN(MapReader security, spec.Map("securityContext"));
    RETURN_IF_ERROR(ReadPodSecurityContext(security, &out->security_context.emplace()));
  }
  RETURN_IF_ERROR(spec.Read("priorityClassName", &out->priority_class_name));
  spec.WarnUnread({"schedulerName", "tolerations", "priority", "preemptionPolicy",
                   "enableServiceLinks", "serviceAccount", "automountServiceAccountToken",
                   "readinessGates", "overhead", "os", "schedulingGates"});
  return CheckPodWide(spec, out);
}

}  // namespace comet::kube::yaml
