// ValidateManifest: the checks every pod manifest passes before it is written or used (a pod
// file is hostile input: it may have been edited or planted). Thread-safe (pure functions).
#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include <fmt/format.h>

#include "base/strings.h"
#include "pod/json_fields.h"
#include "pod/manifest.h"
#include "pod/manifest_json.h"
#include "runtime/process_plan.h"

namespace comet::pod {
namespace {

using internal::ChildPath;
using internal::HasControlChars;
using internal::IndexPath;
using internal::IsCleanAbsolutePath;
using internal::IsCleanRelativePath;
using internal::IsHostname;
using internal::IsIpAddress;
using internal::PathError;
using internal::Printable;

bool IsAlnumLower(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// The syntax of an image digest, checked here rather than with image::Digest::Parse so that the
// supervisor, which validates manifests, does not pull the hashing code (and nettle) in.
bool IsDigestSyntax(std::string_view digest) {
  size_t hex_length = 0;
  if (digest.starts_with("sha256:")) {
    hex_length = 64;
  } else if (digest.starts_with("sha512:")) {
    hex_length = 128;
  } else {
    return false;
  }
  std::string_view hex = digest.substr(7);
  return hex.size() == hex_length && std::all_of(hex.begin(), hex.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsCapName(std::string_view cap) {
  if (!StartsWith(cap, "CAP_") || cap.size() == 4 || cap.size() > 64) {
    return false;
  }
  std::string_view rest = cap.substr(4);
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A resolv.conf word: no blanks or control bytes (they would inject lines or options).
bool IsResolvWord(std::string_view word) {
  if (word.empty() || word.size() > 255) {
    return false;
  }
  return std::none_of(word.begin(), word.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

Status CheckStrings(const std::vector<std::string>& items, const std::string& path) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].find('\0') != std::string::npos) {
      return Err(PathError(IndexPath(path, i), "contains a NUL byte"));
    }
  }
  return Ok();
}

Status ValidateMounts(const App& app, const std::string& path,
                      const std::set<std::string>& volumes) {
  std::set<std::string> targets;
  for (size_t i = 0; i < app.mounts.size(); ++i) {
    const MountPoint& m = app.mounts[i];
    std::string mp = IndexPath(ChildPath(path, "mounts"), i);
    if (!volumes.contains(m.volume)) {
      return Err(PathError(ChildPath(mp, "volume"),
                           fmt::format("\"{}\": no such volume in the pod", Printable(m.volume))));
    }
    if (!IsCleanAbsolutePath(m.target)) {
      return Err(PathError(
          ChildPath(mp, "target"),
          fmt::format(R"("{}": must be an absolute path without "..")", Printable(m.target))));
    }
    if (!m.sub_path.empty() && !IsCleanRelativePath(m.sub_path)) {
      return Err(PathError(
          ChildPath(mp, "sub_path"),
          fmt::format(R"("{}": must be a relative path without "..")", Printable(m.sub_path))));
    }
    if (!targets.insert(m.target).second) {
      return Err(PathError(ChildPath(mp, "target"),
                           fmt::format("\"{}\": mounted twice", Printable(m.target))));
    }
  }
  return Ok();
}

Status ValidateResources(const Resources& r, const std::string& path) {
  if (r.cpu_millis < 0) {
    return Err(PathError(ChildPath(path, "cpu_millis"), "must not be negative"));
  }
  if (r.memory_bytes < 0) {
    return Err(PathError(ChildPath(path, "memory_bytes"), "must not be negative"));
  }
  if (r.pids < 0) {
    return Err(PathError(ChildPath(path, "pids"), "must not be negative"));
  }
  if (r.oom_score_adj && (*r.oom_score_adj < -1000 || *r.oom_score_adj > 1000)) {
    return Err(PathError(ChildPath(path, "oom_score_adj"),
                         fmt::format("{} is outside [-1000, 1000]", *r.oom_score_adj)));
  }
  return Ok();
}

Status ValidateApp(const App& app, const std::string& path, const std::set<std::string>& volumes) {
  if (app.exec.empty() || app.exec[0].empty()) {
    return Err(PathError(ChildPath(path, "exec"), "no command to run"));
  }
  RETURN_IF_ERROR(CheckStrings(app.exec, ChildPath(path, "exec")));
  RETURN_IF_ERROR(CheckStrings(app.env, ChildPath(path, "env")));
  for (size_t i = 0; i < app.env.size(); ++i) {
    size_t eq = app.env[i].find('=');
    if (eq == 0 || eq == std::string::npos) {
      return Err(PathError(IndexPath(ChildPath(path, "env"), i),
                           fmt::format("\"{}\": expected KEY=VALUE", Printable(app.env[i]))));
    }
  }
  if (!IsDigestSyntax(app.image_id)) {
    return Err(PathError(ChildPath(path, "image_id"),
                         fmt::format("\"{}\": expected sha256:<64 hex> or sha512:<128 hex>",
                                     Printable(app.image_id))));
  }
  if (!app.image_config_id.empty() && !IsDigestSyntax(app.image_config_id)) {
    return Err(PathError(ChildPath(path, "image_config_id"),
                         fmt::format("\"{}\": expected sha256:<64 hex> or sha512:<128 hex>",
                                     Printable(app.image_config_id))));
  }
  for (size_t i = 0; i < app.layers.size(); ++i) {
    if (!IsCleanAbsolutePath(app.layers[i])) {
      return Err(
          PathError(IndexPath(ChildPath(path, "layers"), i),
                    fmt::format("\"{}\": must be an absolute path", Printable(app.layers[i]))));
    }
  }
  if (!IsCleanAbsolutePath(app.working_dir)) {
    return Err(
        PathError(ChildPath(path, "working_dir"),
                  fmt::format("\"{}\": must be an absolute path", Printable(app.working_dir))));
  }
  if (app.user.empty() || HasControlChars(app.user)) {
    return Err(PathError(ChildPath(path, "user"), "must be a uid or a user name"));
  }
  if (HasControlChars(app.group)) {
    return Err(PathError(ChildPath(path, "group"), "must be a gid or a group name"));
  }
  for (const char* key : {"caps_retain", "caps_remove"}) {
    const auto& caps = std::string_view(key) == "caps_retain" ? app.caps_retain : app.caps_remove;
    for (size_t i = 0; i < caps.size(); ++i) {
      if (!IsCapName(caps[i])) {
        return Err(PathError(IndexPath(ChildPath(path, key), i),
                             fmt::format("\"{}\": not a capability name", Printable(caps[i]))));
      }
      // A name libcap does not know would only fail in the supervisor, after the pod started.
      if (!runtime::CapabilityNumber(caps[i], "")) {
        return Err(PathError(IndexPath(ChildPath(path, key), i),
                             fmt::format("\"{}\": unknown capability", Printable(caps[i]))));
      }
    }
  }
  RETURN_IF_ERROR(ValidateResources(app.resources, ChildPath(path, "resources")));
  RETURN_IF_ERROR(internal::ValidateDeviceFields(app, path));
  return ValidateMounts(app, path, volumes);
}

Status ValidateVolume(const Volume& v, const std::string& path) {
  if (v.kind == VolumeKind::kHost && !IsCleanAbsolutePath(v.source)) {
    return Err(PathError(
        ChildPath(path, "source"),
        fmt::format("\"{}\": a host volume needs an absolute source path", Printable(v.source))));
  }
  if (!v.medium.empty() && v.medium != "memory") {
    return Err(PathError(ChildPath(path, "medium"),
                         fmt::format(R"("{}": expected "" or "memory")", Printable(v.medium))));
  }
  if (v.mode > 07777) {
    return Err(PathError(ChildPath(path, "mode"), fmt::format("{:o} is not a file mode", v.mode)));
  }
  // Only stage0's own directory for it: elsewhere in the pod directory apps control the paths.
  if (!v.seed.empty() && (v.kind != VolumeKind::kEmpty || v.seed != "seed/" + v.name)) {
    return Err(PathError(
        ChildPath(path, "seed"),
        fmt::format(R"("{}": an empty volume's seed is seed/<its name>)", Printable(v.seed))));
  }
  return Ok();
}

Status ValidatePodFields(const PodManifest& m) {
  if (!IsValidUuid(m.uuid)) {
    return Err(PathError("uuid", fmt::format("\"{}\": not a lowercase UUID", Printable(m.uuid))));
  }
  if (!m.created.empty() && !ParseRfc3339(m.created)) {
    return Err(
        PathError("created", fmt::format("\"{}\": not an RFC 3339 time", Printable(m.created))));
  }
  if (HasControlChars(m.name)) {
    return Err(PathError("name", "contains control characters"));
  }
  if (m.host_pid && m.share_pid) {
    return Err(PathError("host_pid",
                         "the host's pid namespace and a shared pod one exclude "
                         "each other"));
  }
  // A user namespace of our own cannot mount a /proc of the host's pid namespace.
  if (m.host_pid && m.rootless) {
    return Err(PathError("host_pid", "the host's pid namespace needs a rootful pod"));
  }
  // Nor mount the host ipc namespace's mqueue.
  if (m.host_ipc && m.rootless) {
    return Err(PathError("host_ipc", "the host's ipc namespace needs a rootful pod"));
  }
  if (!m.hostname.empty() && !IsHostname(m.hostname)) {
    return Err(
        PathError("hostname", fmt::format("\"{}\": not a valid host name", Printable(m.hostname))));
  }
  for (size_t i = 0; i < m.dns.size(); ++i) {
    if (!IsIpAddress(m.dns[i])) {
      return Err(PathError(IndexPath("dns", i),
                           fmt::format("\"{}\": not an IP address", Printable(m.dns[i]))));
    }
  }
  for (const char* key : {"dns_search", "dns_opt"}) {
    const auto& words = std::string_view(key) == "dns_search" ? m.dns_search : m.dns_opt;
    for (size_t i = 0; i < words.size(); ++i) {
      if (!IsResolvWord(words[i])) {
        return Err(PathError(IndexPath(key, i), fmt::format("\"{}\": not a valid resolv.conf word",
                                                            Printable(words[i]))));
      }
    }
  }
  RETURN_IF_ERROR(internal::ValidateNetFields(m));
  if (m.stop_grace_seconds < 0) {
    return Err(PathError("stop_grace_seconds", "must not be negative"));
  }
  if (m.apps.empty() && !m.mutable_pod) {
    return Err(PathError("apps", "a pod needs at least one app"));
  }
  return Ok();
}

}  // namespace

namespace internal {

bool HasControlChars(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// "/a/b": absolute, no "." or ".." component, no NUL or other control bytes.
bool IsCleanAbsolutePath(std::string_view path) {
  if (path.empty() || path[0] != '/' || HasControlChars(path)) {
    return false;
  }
  const std::vector<std::string> parts = Split(path.substr(1), '/');
  return std::none_of(parts.begin(), parts.end(),
                      [](const std::string& part) { return part == "." || part == ".."; });
}

bool IsCleanRelativePath(std::string_view path) {
  if (path.empty() || path[0] == '/' || HasControlChars(path)) {
    return false;
  }
  const std::vector<std::string> parts = Split(path, '/');
  return std::none_of(parts.begin(), parts.end(),
                      [](const std::string& part) { return part == "." || part == ".."; });
}

// RFC 1123 host name: labels of [A-Za-z0-9-], at most 63 characters each, 253 in all.
bool IsHostname(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  for (const std::string& label : Split(name, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) {
        return false;
      }
    }
  }
  return true;
}

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

}  // namespace internal

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !IsAlnumLower(name.front()) ||
      !IsAlnumLower(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlnumLower(c) || c == '-' || c == '.' || c == '_'; });
}

Status ValidateManifest(const PodManifest& m) {
  if (m.version < 1 || m.version > kManifestVersion) {
    return Err(PathError("version", fmt::format("unsupported manifest version {}", m.version)));
  }
  RETURN_IF_ERROR(ValidatePodFields(m));
  std::set<std::string> volumes;
  for (size_t i = 0; i < m.volumes.size(); ++i) {
    std::string path = IndexPath("volumes", i);
    const Volume& v = m.volumes[i];
    if (!IsValidName(v.name)) {
      return Err(PathError(ChildPath(path, "name"),
                           fmt::format("\"{}\": invalid volume name (want 1-{} of [a-z0-9._-], "
                                       "starting and ending with a letter or digit)",
                                       Printable(v.name), kMaxNameLength)));
    }
    if (!volumes.insert(v.name).second) {
      return Err(
          PathError(ChildPath(path, "name"), fmt::format("\"{}\": duplicate volume name", v.name)));
    }
    RETURN_IF_ERROR(ValidateVolume(v, path));
  }
  std::set<std::string> apps;
  for (size_t i = 0; i < m.apps.size(); ++i) {
    std::string path = IndexPath("apps", i);
    const App& app = m.apps[i];
    if (!IsValidName(app.name)) {
      return Err(PathError(ChildPath(path, "name"),
                           fmt::format("\"{}\": invalid app name (want 1-{} of [a-z0-9._-], "
                                       "starting and ending with a letter or digit)",
                                       Printable(app.name), kMaxNameLength)));
    }
    if (!apps.insert(app.name).second) {
      return Err(
          PathError(ChildPath(path, "name"), fmt::format("\"{}\": duplicate app name", app.name)));
    }
    RETURN_IF_ERROR(ValidateApp(app, path, volumes));
  }
  return Ok();
}

}  // namespace comet::pod
