// The pod manifest's JSON form, its file and pod UUIDs. See manifest.h; validation is in
// manifest_validate.cc. Thread-safe (pure functions).
#include "pod/manifest.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/enum_names.h"
#include "base/strings.h"
#include "os/file.h"
#include "pod/json_fields.h"
#include "pod/manifest_json.h"
#include "pod/pod_dir.h"

namespace comet::pod {
namespace {

using internal::IndexPath;
using internal::Json;
using internal::ObjectReader;
using internal::OrderedJson;
using internal::PathError;

std::string_view VolumeKindName(VolumeKind kind) {
  return kind == VolumeKind::kHost ? "host" : "empty";
}

OrderedJson ResourcesToJson(const Resources& r) {
  OrderedJson out = {{"cpu_millis", r.cpu_millis},
                     {"cpu_shares", r.cpu_shares},
                     {"memory_bytes", r.memory_bytes},
                     {"pids", r.pids}};
  if (r.oom_score_adj) {
    out["oom_score_adj"] = *r.oom_score_adj;
  }
  return out;
}

OrderedJson VolumeToJson(const Volume& v) {
  OrderedJson out = {{"name", v.name},
                     {"kind", VolumeKindName(v.kind)},
                     {"source", v.source},
                     {"read_only", v.read_only},
                     {"recursive", v.recursive},
                     {"medium", v.medium},
                     {"size_bytes", v.size_bytes},
                     {"mode", v.mode},
                     {"uid", v.uid},
                     {"gid", v.gid}};
  if (!v.seed.empty()) {  // absent from manifests that need none: they stay as they were
    out["seed"] = v.seed;
  }
  return out;
}

Status ParseResources(const ObjectReader& r, Resources* out) {
  RETURN_IF_ERROR(r.Int64("cpu_millis", &out->cpu_millis));
  RETURN_IF_ERROR(r.Uint64("cpu_shares", &out->cpu_shares));
  RETURN_IF_ERROR(r.Int64("memory_bytes", &out->memory_bytes));
  RETURN_IF_ERROR(r.Int64("pids", &out->pids));
  if (r.Member("oom_score_adj") != nullptr) {
    int adj = 0;
    RETURN_IF_ERROR(r.Int("oom_score_adj", &adj));
    out->oom_score_adj = adj;
  }
  return Ok();
}

Status ParseMounts(const ObjectReader& r, std::vector<MountPoint>* out) {
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("mounts", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    ObjectReader m(*items[i], IndexPath(r.PathOf("mounts"), i));
    MountPoint mount;
    RETURN_IF_ERROR(m.String("volume", &mount.volume));
    RETURN_IF_ERROR(m.String("target", &mount.target));
    RETURN_IF_ERROR(m.Bool("read_only", &mount.read_only));
    RETURN_IF_ERROR(m.String("sub_path", &mount.sub_path));
    out->push_back(std::move(mount));
  }
  return Ok();
}

Status ParseVolume(const ObjectReader& r, Volume* v) {
  RETURN_IF_ERROR(r.String("name", &v->name));
  std::string kind;
  RETURN_IF_ERROR(r.String("kind", &kind));
  if (kind == "host") {
    v->kind = VolumeKind::kHost;
  } else if (kind.empty() || kind == "empty") {
    v->kind = VolumeKind::kEmpty;
  } else {
    return Err(PathError(r.PathOf("kind"), fmt::format(R"("{}": expected "host" or "empty")",
                                                       internal::Printable(kind))));
  }
  RETURN_IF_ERROR(r.String("source", &v->source));
  RETURN_IF_ERROR(r.Bool("read_only", &v->read_only));
  RETURN_IF_ERROR(r.Bool("recursive", &v->recursive));
  RETURN_IF_ERROR(r.String("medium", &v->medium));
  RETURN_IF_ERROR(r.Uint64("size_bytes", &v->size_bytes));
  RETURN_IF_ERROR(r.Uint32("mode", &v->mode));
  RETURN_IF_ERROR(r.Uint32("uid", &v->uid));
  RETURN_IF_ERROR(r.Uint32("gid", &v->gid));
  RETURN_IF_ERROR(r.String("seed", &v->seed));
  return Ok();
}

Status ParsePodFields(const ObjectReader& r, PodManifest* m) {
  RETURN_IF_ERROR(r.String("uuid", &m->uuid));
  RETURN_IF_ERROR(r.String("name", &m->name));
  RETURN_IF_ERROR(r.String("created", &m->created));
  RETURN_IF_ERROR(internal::ParseNetFields(r, m));
  RETURN_IF_ERROR(r.String("hostname", &m->hostname));
  RETURN_IF_ERROR(r.StringArray("dns", &m->dns));
  RETURN_IF_ERROR(r.StringArray("dns_search", &m->dns_search));
  RETURN_IF_ERROR(r.StringArray("dns_opt", &m->dns_opt));
  RETURN_IF_ERROR(r.Bool("share_pid", &m->share_pid));
  RETURN_IF_ERROR(r.Bool("host_pid", &m->host_pid));
  RETURN_IF_ERROR(r.Bool("host_ipc", &m->host_ipc));
  RETURN_IF_ERROR(r.Bool("mutable_pod", &m->mutable_pod));
  RETURN_IF_ERROR(r.Bool("rootless", &m->rootless));
  RETURN_IF_ERROR(r.Int64("stop_grace_seconds", &m->stop_grace_seconds));
  RETURN_IF_ERROR(r.StringMap("annotations", &m->annotations));
  return Ok();
}

}  // namespace

namespace internal {

OrderedJson AppToJsonValue(const App& app) {
  OrderedJson mounts = OrderedJson::array();
  for (const MountPoint& m : app.mounts) {
    OrderedJson mount = {{"volume", m.volume}, {"target", m.target}, {"read_only", m.read_only}};
    if (!m.sub_path.empty()) {
      mount["sub_path"] = m.sub_path;
    }
    mounts.push_back(std::move(mount));
  }
  OrderedJson out = {{"name", app.name},
                     {"image", app.image},
                     {"image_id", app.image_id},
                     {"image_config_id", app.image_config_id},
                     {"layers", app.layers},
                     {"exec", app.exec},
                     {"env", app.env},
                     {"working_dir", app.working_dir},
                     {"user", app.user},
                     {"group", app.group},
                     {"supplementary_gids", app.supplementary_gids},
                     {"read_only_rootfs", app.read_only_rootfs},
                     {"caps_retain", app.caps_retain},
                     {"caps_remove", app.caps_remove},
                     {"resources", ResourcesToJson(app.resources)},
                     {"mounts", mounts},
                     {"restart", RestartPolicyName(app.restart)},
                     {"init", app.init},
                     {"stdin", app.stdin},
                     {"tty", app.tty},
                     {"annotations", app.annotations}};
  AddDeviceFields(app, out);
  return out;
}

Status ParseAppValue(const ObjectReader& r, App* app) {
  RETURN_IF_ERROR(r.String("name", &app->name));
  RETURN_IF_ERROR(r.String("image", &app->image));
  RETURN_IF_ERROR(r.String("image_id", &app->image_id));
  RETURN_IF_ERROR(r.String("image_config_id", &app->image_config_id));
  RETURN_IF_ERROR(r.StringArray("layers", &app->layers));
  RETURN_IF_ERROR(r.StringArray("exec", &app->exec));
  RETURN_IF_ERROR(r.StringArray("env", &app->env));
  RETURN_IF_ERROR(r.String("working_dir", &app->working_dir));
  RETURN_IF_ERROR(r.String("user", &app->user));
  RETURN_IF_ERROR(r.String("group", &app->group));
  RETURN_IF_ERROR(r.Uint32Array("supplementary_gids", &app->supplementary_gids));
  RETURN_IF_ERROR(r.Bool("read_only_rootfs", &app->read_only_rootfs));
  RETURN_IF_ERROR(r.StringArray("caps_retain", &app->caps_retain));
  RETURN_IF_ERROR(r.StringArray("caps_remove", &app->caps_remove));
  ASSIGN_OR_RETURN(const Json* resources, r.Object("resources"));
  if (resources != nullptr) {
    RETURN_IF_ERROR(
        ParseResources(ObjectReader(*resources, r.PathOf("resources")), &app->resources));
  }
  RETURN_IF_ERROR(ParseMounts(r, &app->mounts));
  std::string restart;
  RETURN_IF_ERROR(r.String("restart", &restart));
  if (!restart.empty()) {
    auto policy = ParseRestartPolicy(restart);
    if (!policy) {
      return Err(PathError(r.PathOf("restart"), policy.error().message()));
    }
    app->restart = *policy;
  }
  RETURN_IF_ERROR(r.Bool("init", &app->init));
  RETURN_IF_ERROR(r.Bool("stdin", &app->stdin));
  RETURN_IF_ERROR(r.Bool("tty", &app->tty));
  RETURN_IF_ERROR(r.StringMap("annotations", &app->annotations));
  return ParseDeviceFields(r, app);
}

}  // namespace internal

// Names as Kubernetes spells them; ParseRestartPolicy ignores case.
constexpr EnumName<RestartPolicy> kRestartPolicyNames[] = {{RestartPolicy::kNever, "Never"},
                                                           {RestartPolicy::kOnFailure, "OnFailure"},
                                                           {RestartPolicy::kAlways, "Always"}};

std::string_view RestartPolicyName(RestartPolicy policy) {
  return NameOf(kRestartPolicyNames, policy);
}

Result<RestartPolicy> ParseRestartPolicy(std::string_view name) {
  if (auto policy = ValueOf(kRestartPolicyNames, name, NameCase::kIgnore)) {
    return *policy;
  }
  return Err(
      Error::Invalid(fmt::format("unknown restart policy \"{}\" (want Never, OnFailure or Always)",
                                 internal::Printable(name))));
}

std::string ManifestToJson(const PodManifest& m, bool pretty) {
  OrderedJson apps = OrderedJson::array();
  for (const App& app : m.apps) {
    apps.push_back(internal::AppToJsonValue(app));
  }
  OrderedJson volumes = OrderedJson::array();
  for (const Volume& v : m.volumes) {
    volumes.push_back(VolumeToJson(v));
  }
  OrderedJson out = {{"version", m.version},
                     {"uuid", m.uuid},
                     {"name", m.name},
                     {"created", m.created},
                     {"apps", apps},
                     {"volumes", volumes},
                     {"hostname", m.hostname},
                     {"dns", m.dns},
                     {"dns_search", m.dns_search},
                     {"dns_opt", m.dns_opt},
                     {"share_pid", m.share_pid},
                     {"mutable_pod", m.mutable_pod},
                     {"rootless", m.rootless},
                     {"stop_grace_seconds", m.stop_grace_seconds},
                     {"annotations", m.annotations}};
  if (m.host_pid) {
    out["host_pid"] = true;
  }
  if (m.host_ipc) {
    out["host_ipc"] = true;
  }
  internal::AddNetFields(m, out);
  std::string text = internal::Dump(out, pretty);
  if (pretty) {
    text += '\n';
  }
  return text;
}

Result<PodManifest> ParseManifest(std::string_view json) {
  ASSIGN_OR_RETURN(Json tree, internal::ParseObject(json, kMaxManifestBytes, "pod manifest"));
  ObjectReader r(tree, "");
  PodManifest m;
  if (r.Member("version") == nullptr) {
    return Err(PathError("version", "missing"));
  }
  RETURN_IF_ERROR(r.Int("version", &m.version));
  if (m.version < 1 || m.version > kManifestVersion) {
    return Err(PathError("version", fmt::format("unsupported manifest version {} (this comet "
                                                "reads version {})",
                                                m.version, kManifestVersion)));
  }
  RETURN_IF_ERROR(ParsePodFields(r, &m));
  std::vector<const Json*> items;
  RETURN_IF_ERROR(r.ObjectArray("apps", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    App app;
    RETURN_IF_ERROR(internal::ParseAppValue(ObjectReader(*items[i], IndexPath("apps", i)), &app));
    m.apps.push_back(std::move(app));
  }
  RETURN_IF_ERROR(r.ObjectArray("volumes", &items));
  for (size_t i = 0; i < items.size(); ++i) {
    Volume v;
    RETURN_IF_ERROR(ParseVolume(ObjectReader(*items[i], IndexPath("volumes", i)), &v));
    m.volumes.push_back(std::move(v));
  }
  RETURN_IF_ERROR(ValidateManifest(m));
  return m;
}

Result<PodManifest> ReadManifest(const std::string& pod_dir) {
  std::string path = os::JoinPath(pod_dir, kManifestFile);
  auto text = os::ReadFileLimited(path, kMaxManifestBytes);
  if (!text) {
    return Err(std::move(text).error().AddContext("reading pod manifest"));
  }
  auto manifest = ParseManifest(*text);
  if (!manifest) {
    return Err(std::move(manifest).error().AddContext(path));
  }
  return manifest;
}

Status WriteManifest(const std::string& pod_dir, const PodManifest& manifest, bool durable) {
  RETURN_IF_ERROR_CTX(ValidateManifest(manifest), "pod manifest");
  std::string path = os::JoinPath(pod_dir, kManifestFile);
  const std::string json = ManifestToJson(manifest, false);
  RETURN_IF_ERROR_CTX(
      durable ? os::WriteFileAtomic(path, json, 0640) : os::ReplaceFile(path, json, 0640),
      "writing pod manifest");
  return Ok();
}

std::string NewUuid() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      // getrandom(2) cannot fail for 16 bytes on kernels >= 3.17 once the pool is ready; a
      // predictable pod UUID would be worse than stopping.
      (void)std::fprintf(stderr, "comet: getrandom: %s\n", ::strerrordesc_np(errno));
      std::abort();
    }
    got += static_cast<size_t>(n);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4 (RFC 9562 §5.4)
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

bool IsValidUuid(std::string_view text) {
  if (text.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') {
        return false;
      }
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace comet::pod
