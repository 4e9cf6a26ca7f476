// FieldRefValue, ResourceFieldRefValue; see downward_api.h. The supported paths are the
// kubelet's for env (podFieldSelectorRuntimeValue and resource.ExtractContainerResourceValue).
#include "kube/downward_api.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "kube/quantity.h"
#include "kube/resources_convert.h"

namespace comet::kube {
namespace {

using internal::FieldError;

// "metadata.labels['key']" -> "key" when `path` is `prefix` + "['key']".
std::optional<std::string> Subscript(std::string_view path, std::string_view prefix) {
  if (!StartsWith(path, prefix)) {
    return std::nullopt;
  }
  std::string_view rest = path.substr(prefix.size());
  if (rest.size() < 4 || !StartsWith(rest, "['") || !rest.ends_with("']")) {
    return std::nullopt;
  }
  return std::string(rest.substr(2, rest.size() - 4));
}

std::string Lookup(const std::map<std::string, std::string>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? std::string() : it->second;
}

const Container* FindContainer(const PodSpec& spec, std::string_view name) {
  for (const auto* list : {&spec.init_containers, &spec.containers}) {
    for (const Container& container : *list) {
      if (container.name == name) {
        return &container;
      }
    }
  }
  return nullptr;
}

// ceil(value / divisor) for value >= 0, divisor > 0.
int64_t DivideUp(int64_t value, int64_t divisor) {
  return value / divisor + (value % divisor != 0 ? 1 : 0);
}

Result<int64_t> Divisor(const ResourceFieldSelector& selector, bool cpu, std::string_view field) {
  if (selector.divisor.empty()) {
    return cpu ? 1000 : 1;
  }
  const std::string path = fmt::format("{}.divisor", field);
  auto divisor = cpu ? ParseCpuMillis(selector.divisor) : ParseQuantityBytes(selector.divisor);
  if (!divisor) {
    return Err(FieldError(path, divisor.error().ToString()));
  }
  if (*divisor <= 0) {
    return Err(FieldError(path, fmt::format("\"{}\": must be positive", selector.divisor)));
  }
  return *divisor;
}

}  // namespace

Result<std::string> FieldRefValue(const ObjectMeta& meta, const PodSpec& spec, const NodeInfo& node,
                                  std::string_view field_path, std::string_view field,
                                  std::vector<std::string>* warnings) {
  if (field_path == "metadata.name") {
    return meta.name;
  }
  if (field_path == "metadata.namespace") {
    return meta.namespace_;
  }
  if (field_path == "metadata.uid") {
    return meta.uid;
  }
  if (auto key = Subscript(field_path, "metadata.labels")) {
    return Lookup(meta.labels, *key);
  }
  if (auto key = Subscript(field_path, "metadata.annotations")) {
    return Lookup(meta.annotations, *key);
  }
  if (field_path == "spec.nodeName") {
    return node.node_name.empty() ? spec.node_name : node.node_name;
  }
  if (field_path == "spec.serviceAccountName") {
    return spec.service_account_name;
  }
  if (field_path == "status.hostIP" || field_path == "status.hostIPs") {
    return node.host_ip;
  }
  if (field_path == "status.podIP" || field_path == "status.podIPs") {
    warnings->push_back(
        fmt::format("{} ({}): the pod's IP is not known before the pod starts; set to \"\"", field,
                    field_path));
    return std::string();
  }
  return Err(FieldError(fmt::format("{}.valueFrom.fieldRef.fieldPath", field),
                        fmt::format("\"{}\": not supported for env", Printable(field_path, 100))));
}

Result<std::string> ResourceFieldRefValue(const PodSpec& spec, const Container& self,
                                          const ResourceFieldSelector& selector,
                                          const NodeInfo& node, std::string_view field) {
  const Container* container = &self;
  if (!selector.container_name.empty()) {
    container = FindContainer(spec, selector.container_name);
    if (container == nullptr) {
      return Err(FieldError(fmt::format("{}.containerName", field),
                            fmt::format("no container named \"{}\" in the pod",
                                        Printable(selector.container_name, 100))));
    }
  }
  auto resources = ParseComputeResources(container->resources, "resources");
  if (!resources) {
    return Err(FieldError(field, resources.error().ToString()));
  }
  const std::string& name = selector.resource;
  std::optional<int64_t> value;
  bool cpu = false;
  if (name == "limits.cpu") {
    cpu = true;
    value = resources->cpu_limit_millis.value_or(node.cpu_millis);
  } else if (name == "requests.cpu") {
    cpu = true;
    value = resources->cpu_request_millis.value_or(0);
  } else if (name == "limits.memory") {
    value = resources->memory_limit_bytes.value_or(static_cast<int64_t>(node.memory_bytes));
  } else if (name == "requests.memory") {
    value = resources->memory_request_bytes.value_or(0);
  } else if (name == "limits.ephemeral-storage") {
    value = resources->ephemeral_limit_bytes.value_or(node.ephemeral_storage_bytes);
  } else if (name == "requests.ephemeral-storage") {
    value = resources->ephemeral_request_bytes.value_or(0);
  } else {
    return Err(FieldError(fmt::format("{}.resource", field),
                          fmt::format("\"{}\": not supported", Printable(name, 100))));
  }
  ASSIGN_OR_RETURN(int64_t divisor, Divisor(selector, cpu, field));
  return std::to_string(DivideUp(*value, divisor));
}

}  // namespace comet::kube
