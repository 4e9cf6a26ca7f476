// ConvertVolumes, ConvertMounts; see volumes_convert.h.
#include "kube/volumes_convert.h"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "kube/convert_internal.h"
#include "kube/host_path.h"
#include "kube/quantity.h"

namespace comet::kube {
namespace {

using internal::FieldError;
using internal::FindConfigMap;
using internal::FindSecret;
using internal::Indexed;
using internal::IsCleanAbsolutePath;
using internal::IsCleanRelativePath;

// The API server's bounds of defaultMode and items[].mode.
constexpr int32_t kMaxFileMode = 0777;
constexpr uint32_t kDefaultFileMode = 0644;
// The kubelet makes emptyDir volumes world-writable, so that any runAsUser can use them.
constexpr uint32_t kEmptyDirMode = 0777;
constexpr uint32_t kSetGid = 02000;

// "/data/" -> "/data".
std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

Result<uint32_t> FileMode(std::optional<int32_t> mode, const std::string& field) {
  if (!mode) {
    return kDefaultFileMode;
  }
  if (*mode < 0 || *mode > kMaxFileMode) {
    return Err(FieldError(field, fmt::format("{:o} is not a file mode (want 0 to 0777)", *mode)));
  }
  return static_cast<uint32_t>(*mode);
}

// The object's keys: text data first, then binaryData (a key in both is the API server's error;
// the text wins here).
struct ObjectData {
  const std::map<std::string, std::string>* data = nullptr;
  const std::map<std::string, std::string>* binary_data = nullptr;

  [[nodiscard]] const std::string* Find(const std::string& key) const {
    for (const auto* map : {data, binary_data}) {
      if (map != nullptr) {
        if (auto it = map->find(key); it != map->end()) {
          return &it->second;
        }
      }
    }
    return nullptr;
  }
};

bool HasPath(const std::vector<SeedFile>& files, const std::string& path) {
  return std::any_of(files.begin(), files.end(), [&](const SeedFile& f) { return f.path == path; });
}

// Every key of the object, each a file named after it.
Result<std::vector<SeedFile>> AllKeys(const ObjectData& object, uint32_t mode,
                                      const std::string& field, const char* kind) {
  std::vector<SeedFile> files;
  for (const auto* map : {object.data, object.binary_data}) {
    if (map == nullptr) {
      continue;
    }
    for (const auto& entry : *map) {
      const std::string& key = entry.first;
      if (HasPath(files, key)) {
        continue;
      }
      if (!IsCleanRelativePath(key)) {
        return Err(FieldError(
            field, fmt::format(R"({} key "{}": not a file name)", kind, Printable(key, 100))));
      }
      files.push_back(SeedFile{.path = key, .content = entry.second, .mode = mode});
    }
  }
  return files;
}

// The keys `items` name, at their paths and modes.
Result<std::vector<SeedFile>> Items(const Volume& volume, const ObjectData& object,
                                    uint32_t default_mode, const std::string& field,
                                    const char* kind) {
  std::vector<SeedFile> files;
  for (size_t i = 0; i < volume.items.size(); ++i) {
    const KeyToPath& item = volume.items[i];
    const std::string item_field = Indexed(field + ".items", i);
    const std::string* content = object.Find(item.key);
    if (content == nullptr) {
      if (volume.optional) {
        continue;
      }
      return Err(FieldError(item_field + ".key", fmt::format(R"(key "{}" not found in {} "{}")",
                                                             Printable(item.key, 100), kind,
                                                             Printable(volume.source_name, 100))));
    }
    const std::string path = item.path.empty() ? item.key : item.path;
    if (!IsCleanRelativePath(path)) {
      return Err(FieldError(
          item_field + ".path",
          fmt::format(R"("{}": must be a relative path without "..")", Printable(path, 100))));
    }
    if (HasPath(files, path)) {
      return Err(FieldError(item_field + ".path",
                            fmt::format("\"{}\": given twice", Printable(path, 100))));
    }
    uint32_t mode = default_mode;
    if (item.mode) {
      ASSIGN_OR_RETURN(mode, FileMode(item.mode, item_field + ".mode"));
    }
    files.push_back(SeedFile{.path = path, .content = *content, .mode = mode});
  }
  return files;
}

// The seed files of a configMap or secret volume (`kind` is "configmap" or "secret").
Result<std::vector<SeedFile>> SeedFiles(const Volume& volume, const ObjectData& object,
                                        const std::string& field, const char* kind) {
  ASSIGN_OR_RETURN(uint32_t default_mode, FileMode(volume.default_mode, field + ".defaultMode"));
  if (volume.items.empty()) {
    return AllKeys(object, default_mode, field, kind);
  }
  return Items(volume, object, default_mode, field, kind);
}

Status ConvertObjectVolume(const Pod& pod, const Objects& objects, const Volume& volume,
                           const std::string& field, pod::Volume& out, PodDraft* draft) {
  const bool secret = volume.kind == VolumeSourceKind::kSecret;
  const std::string object_field = field + (secret ? ".secret" : ".configMap");
  const char* kind = secret ? "secret" : "configmap";
  const std::string& ns = pod.metadata.namespace_;
  ObjectData data;
  if (secret) {
    if (const Secret* found = FindSecret(objects, ns, volume.source_name)) {
      data.data = &found->data;
    }
  } else if (const ConfigMap* found = FindConfigMap(objects, ns, volume.source_name)) {
    data.data = &found->data;
    data.binary_data = &found->binary_data;
  }
  std::vector<SeedFile> files;
  if (data.data != nullptr) {
    ASSIGN_OR_RETURN(files, SeedFiles(volume, data, object_field, kind));
  } else if (!volume.optional) {
    return Err(FieldError(object_field, fmt::format(R"({} "{}" not found in namespace "{}")", kind,
                                                    Printable(volume.source_name, 100), ns)));
  }
  out.kind = pod::VolumeKind::kEmpty;
  out.medium = secret ? "memory" : "";  // the kubelet keeps secrets on tmpfs, never on disk
  out.read_only = true;                 // the kubelet mounts API data volumes read-only
  out.seed = fmt::format("{}/{}", kSeedDir, volume.name);
  draft->seeds[volume.name] = std::move(files);
  return Ok();
}

Status ConvertEmptyDir(const Volume& volume, const std::string& field, pod::Volume& out,
                       std::vector<std::string>* warnings) {
  out.kind = pod::VolumeKind::kEmpty;
  out.mode = kEmptyDirMode;
  if (volume.medium == "Memory") {
    out.medium = "memory";
  } else if (!volume.medium.empty()) {
    return Err(FieldError(
        field + ".emptyDir.medium",
        fmt::format(R"("{}": not supported (want "" or "Memory"))", Printable(volume.medium, 64))));
  }
  if (!volume.size_limit.empty()) {
    auto size = ParseQuantityBytes(volume.size_limit);
    if (!size) {
      return Err(FieldError(field + ".emptyDir.sizeLimit", size.error().ToString()));
    }
    if (*size < 0) {
      return Err(FieldError(field + ".emptyDir.sizeLimit", "must not be negative"));
    }
    out.size_bytes = static_cast<uint64_t>(*size);
    if (out.medium.empty() && *size > 0) {
      warnings->push_back(fmt::format(
          "{}.emptyDir.sizeLimit: not enforced for a volume on disk (only with medium Memory)",
          field));
    }
  }
  return Ok();
}

Status ConvertHostPath(const Volume& volume, const std::string& field, pod::Volume& out,
                       PodDraft* draft) {
  const std::string host_field = field + ".hostPath";
  if (!IsCleanAbsolutePath(volume.path)) {
    return Err(FieldError(host_field + ".path",
                          fmt::format(R"("{}": must be an absolute path without "..")",
                                      Printable(volume.path, 200))));
  }
  if (!IsValidHostPathType(volume.host_path_type)) {
    return Err(FieldError(host_field + ".type", fmt::format("\"{}\": unknown hostPath type",
                                                            Printable(volume.host_path_type, 64))));
  }
  out.kind = pod::VolumeKind::kHost;
  out.source = WithoutTrailingSlash(volume.path);
  out.recursive = true;
  draft->host_paths.push_back(
      HostPathRequirement{.path = out.source, .type = volume.host_path_type, .field = host_field});
  return Ok();
}

}  // namespace

Status ConvertVolumes(const Pod& pod, const Objects& objects, PodDraft* draft,
                      std::vector<std::string>* warnings) {
  std::optional<int64_t> fs_group;
  if (pod.spec.security_context) {
    fs_group = pod.spec.security_context->fs_group;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < pod.spec.volumes.size(); ++i) {
    const Volume& volume = pod.spec.volumes[i];
    const std::string field = Indexed("spec.volumes", i);
    if (!pod::IsValidName(volume.name)) {
      return Err(FieldError(field + ".name",
                            fmt::format("\"{}\": not a valid volume name (a DNS-1123 label)",
                                        Printable(volume.name, 100))));
    }
    if (!names.insert(volume.name).second) {
      return Err(
          FieldError(field + ".name", fmt::format("\"{}\": duplicate volume name", volume.name)));
    }
    pod::Volume out;
    out.name = volume.name;
    switch (volume.kind) {
      case VolumeSourceKind::kHostPath:
        RETURN_IF_ERROR(ConvertHostPath(volume, field, out, draft));
        break;
      case VolumeSourceKind::kEmptyDir:
        RETURN_IF_ERROR(ConvertEmptyDir(volume, field, out, warnings));
        break;
      case VolumeSourceKind::kConfigMap:
      case VolumeSourceKind::kSecret:
        RETURN_IF_ERROR(ConvertObjectVolume(pod, objects, volume, field, out, draft));
        break;
    }
    // fsGroup: the kubelet gives the pod's own volumes that group, setgid on directories
    // (SetVolumeOwnership); host paths stay as they are.
    if (fs_group && out.kind == pod::VolumeKind::kEmpty && *fs_group >= 0 &&
        *fs_group <= std::numeric_limits<uint32_t>::max() - 1) {
      out.gid = static_cast<uint32_t>(*fs_group);
      out.mode |= kSetGid;
    }
    draft->pod.volumes.push_back(std::move(out));
  }
  return Ok();
}

Result<std::vector<pod::MountPoint>> ConvertMounts(const PodSpec& spec, const Container& container,
                                                   std::string_view field,
                                                   std::vector<std::string>* warnings) {
  std::vector<pod::MountPoint> mounts;
  for (size_t i = 0; i < container.volume_mounts.size(); ++i) {
    const VolumeMount& mount = container.volume_mounts[i];
    const std::string mount_field = Indexed(fmt::format("{}.volumeMounts", field), i);
    if (std::none_of(spec.volumes.begin(), spec.volumes.end(),
                     [&](const Volume& v) { return v.name == mount.name; })) {
      return Err(FieldError(mount_field + ".name",
                            fmt::format("no volume named \"{}\"", Printable(mount.name, 100))));
    }
    if (!IsCleanAbsolutePath(mount.mount_path)) {
      return Err(FieldError(mount_field + ".mountPath",
                            fmt::format(R"("{}": must be an absolute path without "..")",
                                        Printable(mount.mount_path, 200))));
    }
    if (!mount.sub_path.empty() && !IsCleanRelativePath(mount.sub_path)) {
      return Err(FieldError(mount_field + ".subPath",
                            fmt::format(R"("{}": must be a relative path without "..")",
                                        Printable(mount.sub_path, 200))));
    }
    pod::MountPoint point{.volume = mount.name,
                          .target = WithoutTrailingSlash(mount.mount_path),
                          .read_only = mount.read_only,
                          .sub_path = mount.sub_path};
    if (std::any_of(mounts.begin(), mounts.end(),
                    [&](const pod::MountPoint& m) { return m.target == point.target; })) {
      return Err(FieldError(mount_field + ".mountPath",
                            fmt::format("\"{}\": mounted twice", Printable(point.target, 200))));
    }
    mounts.push_back(std::move(point));
  }
  for (size_t i = 0; i < container.volume_devices.size(); ++i) {
    warnings->push_back(
        fmt::format("{}.volumeDevices[{}]: raw block volumes are not supported, "
                    "ignored",
                    field, i));
  }
  return mounts;
}

}  // namespace comet::kube
