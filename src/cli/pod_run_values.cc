// The value parsers of the pod commands' flags: booleans, counts, CPUs, sizes, capability lists,
// volumes and mounts (pod_run_flags.h, pod_run_values.h). Pure, thread-safe.
#include "cli/pod_run_values.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/pod_run_flags.h"
#include "cli/update_flags.h"
#include "cli/user_spec.h"

namespace comet::cli {
namespace internal {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<bool> ParseBool(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "1" || lower == "t") {
    return true;
  }
  if (lower == "false" || lower == "0" || lower == "f") {
    return false;
  }
  return Err(Error::Invalid(fmt::format("{:?}: expected true or false", text)));
}

Result<int64_t> ParseNonNegative(std::string_view text) {
  std::optional<long long> value = ParseInt(text);
  if (!value || *value < 0) {
    return Err(Error::Invalid(fmt::format("{:?}: expected a non-negative integer", text)));
  }
  return static_cast<int64_t>(*value);
}

Status CheckKeyValue(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Err(Error::Invalid(fmt::format("{:?}: expected KEY=VALUE", text)));
  }
  return Ok();
}

// --stop-timeout: seconds, "10" or "10s".
Result<int64_t> ParseSeconds(std::string_view text) {
  if (!text.empty() && text.back() == 's') {
    text.remove_suffix(1);
  }
  return ParseNonNegative(text);
}

}  // namespace internal

namespace {

using internal::ParseBool;

Status ApplyVolumeOption(pod::Volume& volume, const std::string& key, const std::string& value) {
  if (key == "kind") {
    if (value != "host" && value != "empty") {
      return Err(Error::Invalid(fmt::format("kind {:?}: expected host or empty", value)));
    }
    volume.kind = value == "host" ? pod::VolumeKind::kHost : pod::VolumeKind::kEmpty;
  } else if (key == "source") {
    volume.source = value;
  } else if (key == "readOnly") {
    ASSIGN_OR_RETURN(volume.read_only, ParseBool(value));
  } else if (key == "recursive") {
    ASSIGN_OR_RETURN(volume.recursive, ParseBool(value));
  } else if (key == "mode") {
    std::optional<unsigned long long> mode;
    if (!value.empty() && value.size() <= 6 &&
        value.find_first_not_of("01234567") == std::string::npos) {
      mode = std::stoull(value, nullptr, 8);
    }
    if (!mode || *mode > 07777) {
      return Err(Error::Invalid(fmt::format("mode {:?}: expected an octal mode like 0755", value)));
    }
    volume.mode = static_cast<uint32_t>(*mode);
  } else if (key == "uid" || key == "gid") {
    ASSIGN_OR_RETURN(uint32_t id, ParseId(value, key));
    (key == "uid" ? volume.uid : volume.gid) = id;
  } else if (key == "medium") {
    if (value != "memory" && !value.empty()) {
      return Err(Error::Invalid(fmt::format("medium {:?}: expected memory", value)));
    }
    volume.medium = value;
  } else if (key == "size") {
    ASSIGN_OR_RETURN(int64_t size, ParseByteSize(value));
    volume.size_bytes = static_cast<uint64_t>(size);
  } else {
    return Err(Error::Invalid(fmt::format("unknown option {:?}", key)));
  }
  return Ok();
}

}  // namespace

Result<int64_t> ParseCpuMillis(std::string_view text) {
  const auto bad = [&] {
    return Err(Error::Invalid(fmt::format("{:?}: expected CPUs like 2, 0.5 or 500m", text)));
  };
  if (text.empty()) {
    return bad();
  }
  if (text.back() == 'm') {
    std::optional<long long> millis = ParseInt(text.substr(0, text.size() - 1));
    if (!millis || *millis <= 0) {
      return bad();
    }
    return static_cast<int64_t>(*millis);
  }
  const size_t dot = text.find('.');
  std::optional<unsigned long long> whole = ParseUint(text.substr(0, dot));
  if (!whole || *whole > 1'000'000) {
    return bad();
  }
  int64_t millis = static_cast<int64_t>(*whole) * 1000;
  if (dot != std::string_view::npos) {
    std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 3 || !ParseUint(fraction)) {
      return bad();
    }
    std::string padded(fraction);
    padded.resize(3, '0');
    millis += static_cast<int64_t>(*ParseUint(padded));
  }
  if (millis <= 0) {
    return bad();
  }
  return millis;
}

Result<int64_t> ParseByteSize(std::string_view text) {
  std::string value(text);
  // Kubernetes' binary suffixes (Ki, Mi, Gi, Ti) mean what docker's k, m, g, t mean.
  if (value.size() > 2 && (value.back() == 'i' || value.back() == 'I')) {
    value += 'b';
  }
  auto bytes = ParseMemoryBytes(value);
  if (!bytes || *bytes <= 0) {
    return Err(Error::Invalid(fmt::format("{:?}: expected a size like 128M, 1Gi or 512000", text)));
  }
  return *bytes;
}

Result<std::vector<std::string>> ParseCapList(std::string_view text) {
  std::vector<std::string> caps;
  for (const std::string& part : Split(text, ',')) {
    std::string cap;
    for (char c : part) {
      cap += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!StartsWith(cap, "CAP_")) {
      cap.insert(0, "CAP_");
    }
    const bool valid = cap.size() > 4 && std::all_of(cap.begin(), cap.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                       });
    if (!valid) {
      return Err(Error::Invalid(fmt::format("{:?}: not a capability name", part)));
    }
    caps.push_back(std::move(cap));
  }
  return caps;
}

Result<pod::Volume> ParseVolumeFlag(std::string_view text) {
  std::vector<std::string> parts = Split(text, ',');
  pod::Volume volume;
  volume.name = parts.front();
  if (volume.name.empty() || volume.name.find('=') != std::string::npos) {
    return Err(Error::Invalid(fmt::format("{:?}: expected NAME,kind=host|empty,...", text)));
  }
  bool kind_given = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    if (eq == std::string::npos) {
      return Err(Error::Invalid(
          fmt::format("volume {}: {:?}: expected KEY=VALUE", volume.name, parts[i])));
    }
    const std::string key = parts[i].substr(0, eq);
    kind_given = kind_given || key == "kind";
    RETURN_IF_ERROR_CTX(ApplyVolumeOption(volume, key, parts[i].substr(eq + 1)),
                        "volume " + volume.name);
  }
  if (!kind_given) {
    volume.kind = volume.source.empty() ? pod::VolumeKind::kEmpty : pod::VolumeKind::kHost;
  }
  if (volume.kind == pod::VolumeKind::kHost && volume.source.empty()) {
    return Err(Error::Invalid(fmt::format("volume {}: kind=host needs source=PATH", volume.name)));
  }
  if (volume.kind == pod::VolumeKind::kHost && volume.source.front() != '/') {
    return Err(Error::Invalid(fmt::format("volume {}: source {:?}: must be an absolute path",
                                          volume.name, volume.source)));
  }
  if (volume.kind == pod::VolumeKind::kEmpty && !volume.source.empty()) {
    return Err(Error::Invalid(fmt::format("volume {}: kind=empty takes no source", volume.name)));
  }
  return volume;
}

Result<pod::MountPoint> ParseMountFlag(std::string_view text) {
  pod::MountPoint mount;
  for (const std::string& part : Split(text, ',')) {
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (eq == std::string::npos) {
      return Err(Error::Invalid(fmt::format("{:?}: expected KEY=VALUE", part)));
    }
    if (key == "volume") {
      mount.volume = value;
    } else if (key == "target") {
      mount.target = value;
    } else if (key == "readOnly") {
      ASSIGN_OR_RETURN(mount.read_only, ParseBool(value));
    } else {
      return Err(Error::Invalid(fmt::format("unknown option {:?}", key)));
    }
  }
  if (mount.volume.empty() || mount.target.empty()) {
    return Err(Error::Invalid(
        fmt::format("{:?}: expected volume=NAME,target=PATH[,readOnly=BOOL]", text)));
  }
  if (mount.target.front() != '/') {
    return Err(Error::Invalid(fmt::format("target {:?}: must be an absolute path", mount.target)));
  }
  return mount;
}

}  // namespace comet::cli
