// appc PodManifest and ImageManifest JSON (see appc_manifest.h). What appc's Go schema checks
// when it decodes, and so what every value here is shaped to pass: AC Names and AC Identifiers
// (characters and ends), `image.id` "sha512-<hex>", env names, the os/arch labels, known isolator
// values, volume kinds, and the "created", "homepage" and "documentation" annotations.
#include "api/appc_manifest.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace comet::api {
namespace {

// Ordered, so that acKind and acVersion come first, as rkt printed them.
using Json = nlohmann::ordered_json;
using StringMap = std::map<std::string, std::string>;

// The length of the well-formed UTF-8 sequence at text[i], else 1: Go's regexp, which appc's
// sanitizers use, replaces a whole character, or one bad byte, by one replacement.
size_t RuneLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
    high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing past U+10FFFF
  } else {
    return 1;  // ASCII, or a byte no well-formed sequence starts with
  }
  if (text.size() - i < length) {
    return 1;
  }
  for (size_t k = 1; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(text[i + k]);
    if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) {
      return 1;
    }
  }
  return length;
}

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAcNameChar(char c) {
  return IsLowerAlnum(c) || c == '-';
}
bool IsAcIdentifierSeparator(char c) {
  return c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}
bool IsAcIdentifierChar(char c) {
  return IsLowerAlnum(c) || IsAcIdentifierSeparator(c);
}

// `text` in lower case with every character `keep` refuses replaced by `replacement`.
std::string ReplaceInvalid(std::string_view text, bool (*keep)(char), char replacement) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t length = RuneLength(text, i);
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    out.push_back(length == 1 && keep(c) ? c : replacement);
    i += length;
  }
  return out;
}

// Trims the characters `strip` takes from both ends of `text`.
std::string TrimEnds(std::string text, bool (*strip)(char)) {
  size_t begin = 0;
  while (begin < text.size() && strip(text[begin])) {
    ++begin;
  }
  size_t end = text.size();
  while (end > begin && strip(text[end - 1])) {
    --end;
  }
  return text.substr(begin, end - begin);
}

bool IsAcIdentifier(std::string_view name) {
  return !name.empty() && SanitizeAcIdentifier(name) == name;
}

// `name`, or `fallback` when empty, made unique in `used` with "-2", "-3"..., and recorded.
std::string UniqueName(std::string name, std::string_view fallback, std::set<std::string>& used) {
  if (name.empty()) {
    name = fallback;
  }
  std::string candidate = name;
  for (int n = 2; used.contains(candidate); ++n) {
    candidate = fmt::format("{}-{}", name, n);
  }
  used.insert(candidate);
  return candidate;
}

// What Go's time.Parse(time.RFC3339, ...) takes: our parser's RFC 3339 with 'T' and 'Z' in
// upper case (Go refuses the lower-case forms RFC 3339 allows).
bool IsGoRfc3339(std::string_view text) {
  return text.size() > 10 && text[10] == 'T' && text.find('z') == std::string_view::npos &&
         ParseRfc3339(text).has_value();
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// An http(s) URL that Go's url.Parse surely takes: a plain host with an optional numeric port,
// then printable ASCII without spaces or brackets, '%' only as an escape. Stricter than Go, so
// that a value we keep is never one the schema refuses.
bool IsHttpUrl(std::string_view url) {
  std::string lower = ReplaceInvalid(
      url.substr(0, 8), [](char) { return true; }, '?');
  size_t scheme = StartsWith(lower, "https://") ? 8 : StartsWith(lower, "http://") ? 7 : 0;
  if (scheme == 0) {
    return false;
  }
  std::string_view rest = url.substr(scheme);
  const size_t host_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view host = rest.substr(0, host_end);
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos &&
      (colon + 1 == host.size() || !ParseUint(host.substr(colon + 1)).has_value())) {
    return false;
  }
  for (char c : host.substr(0, colon)) {
    if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '.' && c != '-') {
      return false;
    }
  }
  std::string_view tail = rest.substr(host_end);
  for (size_t i = 0; i < tail.size(); ++i) {
    const char c = tail[i];
    if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '"' || c == '<' || c == '>' ||
        c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
      return false;
    }
    if (c == '%' && (i + 2 >= tail.size() || !IsHex(tail[i + 1]) || !IsHex(tail[i + 2]))) {
      return false;
    }
  }
  return true;
}

// The three annotations whose values appc's schema checks.
bool IsValidAnnotationValue(std::string_view name, std::string_view value) {
  if (name == "created") {
    return IsGoRfc3339(value);
  }
  if (name == "homepage" || name == "documentation") {
    return IsHttpUrl(value);
  }
  return true;
}

Json NameValue(std::string name, std::string value) {
  Json out = Json::object();
  out["name"] = std::move(name);
  out["value"] = std::move(value);
  return out;
}

// Adds `values` to `annotations` under AC Identifier names: the names already valid first, so
// that a sanitized one never takes theirs. One that is not there under its own name (sanitized,
// a duplicate, or a value the schema refuses) goes to `user`, a map with any key, so that no
// annotation is lost.
void AddAnnotations(const StringMap& values, Json& annotations, Json& user) {
  std::set<std::string> used;
  for (const bool valid_pass : {true, false}) {
    for (const auto& [key, value] : values) {
      const bool valid = IsAcIdentifier(key);
      if (valid != valid_pass) {
        continue;
      }
      std::string name = valid ? key : SanitizeAcIdentifier(key);
      if (!name.empty() && !used.contains(name) && IsValidAnnotationValue(name, value)) {
        used.insert(name);
        annotations.push_back(NameValue(name, value));
        if (valid) {
          continue;
        }
      }
      user[key] = value;
    }
  }
}

// ^[A-Za-z_][A-Za-z_0-9.-]*$, appc's environment variable names.
bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// "KEY=VALUE" entries as [{name, value}], a later KEY overriding an earlier one in place (as
// execve's environment does). Entries whose name appc refuses are left out: one would make the
// schema refuse the whole manifest.
Json Environment(const std::vector<std::string>& env) {
  Json out = Json::array();
  std::map<std::string, size_t> index;
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || !IsEnvName(std::string_view(entry).substr(0, eq))) {
      continue;
    }
    std::string name = entry.substr(0, eq);
    std::string value = entry.substr(eq + 1);
    auto [it, fresh] = index.try_emplace(name, out.size());
    if (fresh) {
      out.push_back(NameValue(std::move(name), std::move(value)));
    } else {
      out[it->second]["value"] = std::move(value);
    }
  }
  return out;
}

Json Isolator(std::string_view name, Json value) {
  Json out = Json::object();
  out["name"] = name;
  out["value"] = std::move(value);
  return out;
}

Json RequestLimit(const std::string& quantity) {
  Json out = Json::object();
  out["request"] = quantity;
  out["limit"] = quantity;
  return out;
}

Json CapabilitySet(const std::vector<std::string>& caps) {
  Json out = Json::object();
  out["set"] = caps;
  return out;
}

// An app's resources and capabilities as appc isolators, the way the kubelet wrote them (request
// = limit), each only within the range appc's schema accepts.
Json Isolators(const pod::App& app) {
  Json out = Json::array();
  const pod::Resources& resources = app.resources;
  if (resources.cpu_millis > 0) {
    out.push_back(Isolator("resource/cpu", RequestLimit(fmt::format("{}m", resources.cpu_millis))));
  }
  if (resources.memory_bytes > 0) {
    out.push_back(
        Isolator("resource/memory", RequestLimit(std::to_string(resources.memory_bytes))));
  }
  if (resources.cpu_shares >= 2 && resources.cpu_shares <= 262144) {
    out.push_back(Isolator("os/linux/cpu-shares", resources.cpu_shares));
  }
  if (resources.oom_score_adj && *resources.oom_score_adj >= -1000 &&
      *resources.oom_score_adj <= 1000) {
    out.push_back(Isolator("os/linux/oom-score-adj", *resources.oom_score_adj));
  }
  if (!app.caps_retain.empty()) {
    out.push_back(Isolator("os/linux/capabilities-retain-set", CapabilitySet(app.caps_retain)));
  }
  if (!app.caps_remove.empty()) {
    out.push_back(Isolator("os/linux/capabilities-remove-set", CapabilitySet(app.caps_remove)));
  }
  return out;
}

// The pod's volumes, filling `names` with the AC Name each got. A host volume without an
// absolute source (never in a validated manifest) is left out, with its mounts: appc's schema
// refuses it.
Json Volumes(const std::vector<pod::Volume>& volumes, StringMap& names) {
  Json out = Json::array();
  std::set<std::string> used;
  for (const pod::Volume& volume : volumes) {
    const bool host = volume.kind == pod::VolumeKind::kHost;
    if (names.contains(volume.name) || (host && !volume.source.starts_with('/'))) {
      continue;
    }
    std::string name = UniqueName(SanitizeAcName(volume.name), "volume", used);
    names[volume.name] = name;
    Json item = Json::object();
    item["name"] = std::move(name);
    item["kind"] = host ? "host" : "empty";
    if (host) {
      item["source"] = volume.source;
    }
    item["readOnly"] = volume.read_only;
    if (host) {
      item["recursive"] = volume.recursive;
    } else {
      item["mode"] = fmt::format("{:04o}", volume.mode & 07777);
      item["uid"] = volume.uid;
      item["gid"] = volume.gid;
    }
    out.push_back(std::move(item));
  }
  return out;
}

bool IsAppcImageId(std::string_view id) {
  constexpr std::string_view kPrefix = "sha512-";
  if (!StartsWith(id, kPrefix) || id.size() == kPrefix.size()) {
    return false;
  }
  return std::ranges::all_of(id.substr(kPrefix.size()),
                             [](char c) { return IsLowerAlnum(c) && c <= 'f'; });
}

Json RuntimeImage(const pod::App& app) {
  Json out = Json::object();
  ImageName split = SplitImageName(app.image);
  if (std::string name = SanitizeAcIdentifier(split.name); !name.empty()) {
    out["name"] = std::move(name);
  }
  if (IsAppcImageId(app.image_id)) {
    out["id"] = app.image_id;
  }
  if (!split.version.empty()) {
    out["labels"] = Json::array({NameValue("version", std::move(split.version))});
  }
  return out;
}

// The app's mount points (in `body`) and the pod-level mounts binding them to volumes.
void AddMounts(const pod::App& app, const StringMap& volume_names, Json& body, Json& mounts) {
  Json points = Json::array();
  std::set<std::string> used;
  for (const pod::MountPoint& mount : app.mounts) {
    auto volume = volume_names.find(mount.volume);
    if (volume == volume_names.end() || mount.target.empty()) {
      continue;
    }
    Json point = Json::object();
    point["name"] = UniqueName(volume->second, "volume", used);
    point["path"] = mount.target;
    point["readOnly"] = mount.read_only;
    points.push_back(std::move(point));
    Json bind = Json::object();
    bind["volume"] = volume->second;
    bind["path"] = mount.target;
    mounts.push_back(std::move(bind));
  }
  if (!points.empty()) {
    body["mountPoints"] = std::move(points);
  }
}

// appc's schema refuses a whole manifest whose app has a relative exec[0] ("sh", as most images
// and many pods have it; resolved on the image's PATH only when the app starts): such an exec is
// left out, which appc takes as "none given".
bool ExecIsValid(const std::vector<std::string>& exec) {
  return !exec.empty() && exec.front().starts_with('/');
}

Json RuntimeApp(const pod::App& app, const StringMap& volume_names, std::set<std::string>& names) {
  Json body = Json::object();
  if (ExecIsValid(app.exec)) {
    body["exec"] = app.exec;
  }
  // appc requires both; an empty group is comet's "the user's primary group", written as
  // docker2aci did for a user without a group: the user again.
  const std::string user = app.user.empty() ? "0" : app.user;
  body["user"] = user;
  body["group"] = app.group.empty() ? user : app.group;
  if (!app.supplementary_gids.empty()) {
    body["supplementaryGIDs"] = app.supplementary_gids;
  }
  if (app.working_dir.starts_with('/')) {
    body["workingDirectory"] = app.working_dir;
  }
  body["environment"] = Environment(app.env);
  Json mounts = Json::array();
  AddMounts(app, volume_names, body, mounts);
  if (Json isolators = Isolators(app); !isolators.empty()) {
    body["isolators"] = std::move(isolators);
  }

  Json out = Json::object();
  out["name"] = UniqueName(SanitizeAcName(app.name), "app", names);
  out["image"] = RuntimeImage(app);
  StringMap values = app.annotations;
  if (!app.image_id.empty() && !IsAppcImageId(app.image_id)) {
    values.try_emplace(kAppcImageIdAnnotation, app.image_id);
  }
  Json annotations = Json::array();
  Json user_annotations = Json::object();
  AddAnnotations(values, annotations, user_annotations);
  if (!user_annotations.empty()) {
    body["userAnnotations"] = std::move(user_annotations);
  }
  out["app"] = std::move(body);
  if (app.read_only_rootfs) {
    out["readOnlyRootFS"] = true;
  }
  if (!mounts.empty()) {
    out["mounts"] = std::move(mounts);
  }
  out["annotations"] = std::move(annotations);
  return out;
}

// Compact JSON; bytes that are not UTF-8 (names and values are hostile input) become U+FFFD
// instead of making nlohmann throw.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// appc's os and arch labels for an OCI platform (appc's ToAppcOSArch table); nullopt for an os
// appc does not know, an empty arch for an arch it does not know there.
std::optional<std::pair<std::string, std::string>> AppcOsArch(const std::string& os,
                                                              const std::string& arch,
                                                              const std::string& variant) {
  if (os == "linux") {
    if (arch == "amd64" || arch == "ppc64" || arch == "ppc64le" || arch == "s390x") {
      return std::pair(os, arch);
    }
    if (arch == "386") {
      return std::pair(os, std::string("i386"));
    }
    if (arch == "arm64") {
      return std::pair(os, std::string("aarch64"));
    }
    if (arch == "arm") {
      return std::pair(os, std::string(variant == "v7" ? "armv7l" : "armv6l"));
    }
    return std::pair(os, std::string());
  }
  if (os == "freebsd") {
    return std::pair(os, std::string(arch == "amd64" ? "amd64"
                                     : arch == "386" ? "i386"
                                     : arch == "arm" ? "arm"
                                                     : ""));
  }
  if (os == "darwin") {
    return std::pair(os, std::string(arch == "amd64" ? "x86_64" : arch == "386" ? "i386" : ""));
  }
  return std::nullopt;
}

// docker2aci's user and group: "u:g" split, a user alone its own group, nothing root.
std::pair<std::string, std::string> SplitUser(const std::string& spec) {
  const size_t colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (const size_t more = group.find(':'); more != std::string::npos) {
    group.resize(more);
  }
  if (user.empty()) {
    user = "0";
  }
  if (group.empty()) {
    group = user;
  }
  return {user, group};
}

// Exposed ports ("80/tcp", "53/udp", "8080") as appc ports named as docker2aci named them.
Json Ports(const std::vector<std::string>& exposed) {
  Json out = Json::array();
  std::set<std::string> used;
  for (const std::string& spec : exposed) {
    const size_t slash = spec.find('/');
    const auto number = ParseUint(std::string_view(spec).substr(0, slash));
    if (!number || *number < 1 || *number > 65535) {
      continue;
    }
    Json port = Json::object();
    port["name"] = UniqueName(SanitizeAcName(spec), "port", used);
    port["protocol"] = slash == std::string::npos ? std::string("tcp") : spec.substr(slash + 1);
    port["port"] = *number;
    port["count"] = 1;
    port["socketActivated"] = false;
    out.push_back(std::move(port));
  }
  return out;
}

// The config's volumes as mount points named "volume-<path>", as docker2aci named them.
Json ImageMountPoints(const std::vector<std::string>& volumes) {
  Json out = Json::array();
  std::set<std::string> used;
  for (const std::string& path : volumes) {
    if (path.empty()) {
      continue;
    }
    Json point = Json::object();
    point["name"] = UniqueName(SanitizeAcName("volume/" + path), "volume", used);
    point["path"] = path;
    out.push_back(std::move(point));
  }
  return out;
}

Json ImageApp(const image::ImageConfig::Process& process) {
  Json app = Json::object();
  std::vector<std::string> exec = process.entrypoint;
  exec.insert(exec.end(), process.cmd.begin(), process.cmd.end());
  if (ExecIsValid(exec)) {  // else the kubelet rebuilds it from the appc.io/docker annotations
    app["exec"] = std::move(exec);
  }
  auto [user, group] = SplitUser(process.user);
  app["user"] = std::move(user);
  app["group"] = std::move(group);
  if (process.working_dir.starts_with('/')) {
    app["workingDirectory"] = process.working_dir;
  }
  app["environment"] = Environment(process.env);
  if (Json points = ImageMountPoints(process.volumes); !points.empty()) {
    app["mountPoints"] = std::move(points);
  }
  if (Json ports = Ports(process.exposed_ports); !ports.empty()) {
    app["ports"] = std::move(ports);
  }
  if (!process.labels.empty()) {
    app["userLabels"] = process.labels;
  }
  return app;
}

// docker2aci's annotations, which the kubelet read: the entrypoint and cmd as JSON arrays (its
// exec), the registry and repository (its image names), and the config's date and author.
StringMap ImageAnnotations(const ImageName& image, const image::ImageConfig& config,
                           const StringMap& manifest_annotations) {
  StringMap values = manifest_annotations;
  const image::ImageConfig::Process& process = config.config;
  if (!process.entrypoint.empty()) {
    values["appc.io/docker/entrypoint"] = Dump(Json(process.entrypoint));
  }
  if (!process.cmd.empty()) {
    values["appc.io/docker/cmd"] = Dump(Json(process.cmd));
  }
  if (const size_t slash = image.name.find('/'); slash != std::string::npos) {
    values["appc.io/docker/registryurl"] = image.name.substr(0, slash);
    values["appc.io/docker/repository"] = image.name.substr(slash + 1);
  }
  if (!config.created.empty()) {
    values.try_emplace("created", config.created);
  }
  if (!config.author.empty()) {
    values.try_emplace("author", config.author);
  }
  return values;
}

}  // namespace

std::string SanitizeAcName(std::string_view text) {
  std::string replaced = ReplaceInvalid(text, IsAcNameChar, '-');
  std::string squeezed;
  squeezed.reserve(replaced.size());
  for (char c : replaced) {
    if (c != '-' || squeezed.empty() || squeezed.back() != '-') {
      squeezed.push_back(c);
    }
  }
  return TrimEnds(std::move(squeezed), [](char c) { return c == '-'; });
}

std::string SanitizeAcIdentifier(std::string_view text) {
  return TrimEnds(ReplaceInvalid(text, IsAcIdentifierChar, '_'), IsAcIdentifierSeparator);
}

std::string AppcPodManifest(const pod::PodManifest& manifest) {
  Json out = Json::object();
  out["acVersion"] = kAppcVersion;
  out["acKind"] = "PodManifest";
  StringMap volume_names;
  Json volumes = Volumes(manifest.volumes, volume_names);
  Json apps = Json::array();
  std::set<std::string> app_names;
  for (const pod::App& app : manifest.apps) {
    apps.push_back(RuntimeApp(app, volume_names, app_names));
  }
  out["apps"] = std::move(apps);
  out["volumes"] = std::move(volumes);
  out["isolators"] = Json::array();
  StringMap values = manifest.annotations;
  if (manifest.mutable_pod) {
    values.try_emplace(kAppcMutableAnnotation, "true");
  }
  Json annotations = Json::array();
  Json user_annotations = Json::object();
  AddAnnotations(values, annotations, user_annotations);
  out["annotations"] = std::move(annotations);
  out["ports"] = Json::array();
  if (!user_annotations.empty()) {
    out["userAnnotations"] = std::move(user_annotations);
  }
  return Dump(out);
}

std::string AppcImageManifest(const ImageName& image, std::string_view id,
                              const image::ImageConfig& config,
                              const std::map<std::string, std::string>& annotations) {
  Json out = Json::object();
  out["acKind"] = "ImageManifest";
  out["acVersion"] = kAppcVersion;
  std::string name = SanitizeAcIdentifier(image.name);
  if (name.empty()) {
    name = SanitizeAcIdentifier(id);
  }
  out["name"] = name.empty() ? std::string("image") : std::move(name);
  Json labels = Json::array();
  if (!image.version.empty()) {
    labels.push_back(NameValue("version", image.version));
  }
  if (auto os_arch = AppcOsArch(config.os, config.architecture, config.variant)) {
    labels.push_back(NameValue("os", os_arch->first));
    if (!os_arch->second.empty()) {
      labels.push_back(NameValue("arch", os_arch->second));
    }
  }
  out["labels"] = std::move(labels);
  Json app = ImageApp(config.config);
  Json appc_annotations = Json::array();
  Json user_annotations = Json::object();
  AddAnnotations(ImageAnnotations(image, config, annotations), appc_annotations, user_annotations);
  // An ImageManifest has no userAnnotations of its own: its app has.
  if (!user_annotations.empty()) {
    app["userAnnotations"] = std::move(user_annotations);
  }
  out["app"] = std::move(app);
  out["annotations"] = std::move(appc_annotations);
  return Dump(out);
}

}  // namespace comet::api
