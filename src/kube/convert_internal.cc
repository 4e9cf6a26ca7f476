// Field paths, errors and object lookups of the Pod conversion; see convert_internal.h.
#include "kube/convert_internal.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::kube::internal {
namespace {

bool IsCleanPath(std::string_view path) {
  if (path.empty()) {
    return false;
  }
  if (std::any_of(path.begin(), path.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
      })) {
    return false;
  }
  const std::vector<std::string> parts = Split(path, '/');
  return std::ranges::none_of(
      parts, [](const std::string& part) { return part.empty() || part == "." || part == ".."; });
}

}  // namespace

std::string ContainerField(bool init, size_t index) {
  return fmt::format("spec.{}[{}]", init ? "initContainers" : "containers", index);
}

std::string Indexed(std::string_view field, size_t index) {
  return fmt::format("{}[{}]", field, index);
}

Error FieldError(std::string_view field, std::string_view what) {
  return Error::Invalid(fmt::format("{}: {}", field, what));
}

const ConfigMap* FindConfigMap(const Objects& objects, std::string_view ns, std::string_view name) {
  for (const ConfigMap& map : objects.config_maps) {
    if (map.metadata.name == name && map.metadata.namespace_ == ns) {
      return &map;
    }
  }
  return nullptr;
}

const Secret* FindSecret(const Objects& objects, std::string_view ns, std::string_view name) {
  for (const Secret& secret : objects.secrets) {
    if (secret.metadata.name == name && secret.metadata.namespace_ == ns) {
      return &secret;
    }
  }
  return nullptr;
}

bool IsCleanRelativePath(std::string_view path) {
  return !path.empty() && path.front() != '/' && IsCleanPath(path);
}

bool IsCleanAbsolutePath(std::string_view path) {
  if (path == "/") {
    return true;
  }
  if (path.empty() || path.front() != '/') {
    return false;
  }
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);  // "/data/" is a clean directory path too
  }
  return IsCleanPath(path);
}

}  // namespace comet::kube::internal
