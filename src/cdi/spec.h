// A CDI spec file (cncf-tags/container-device-interface SPEC.md, cdiVersion 0.3.0 to 1.0.x): a
// vendor's devices of one kind and the edits each needs in a container's OCI config. Parsed from
// YAML or JSON (yaml-cpp reads both), bounded for hostile input, strict about unknown fields as
// the reference implementation is. Value types; thread-safe (pure functions).
#ifndef COMET_CDI_SPEC_H_
#define COMET_CDI_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::cdi {

// The largest spec file read (NVIDIA's spec of a node with 8 GPUs is about 30 KiB).
inline constexpr size_t kMaxSpecBytes = 1 << 20;
// No spec nests deeper than 6; a document deeper than this is refused before it is read.
inline constexpr int kMaxSpecDepth = 32;
// Nodes visited while reading one spec, aliases counted each time they are followed (so that a
// "billion laughs" document stops here instead of exhausting memory or time).
inline constexpr size_t kMaxSpecNodes = 200000;

// Versions this reader accepts, oldest first. 1.0 changed nothing in the file format.
inline constexpr std::string_view kMinSpecVersion = "0.3.0";
inline constexpr std::string_view kMaxSpecVersion = "1.0.0";

struct DeviceNode {
  std::string path;              // in the container (absolute)
  std::string host_path;         // the node on the host; empty: `path`
  std::string type;              // "c", "u" (unbuffered char), "b" or "p"; empty: the host node's
  std::optional<int64_t> major;  // absent (or 0 for c/b): the host node's
  std::optional<int64_t> minor;
  std::optional<uint32_t> file_mode;  // permission bits of the node made in the container
  std::string permissions;            // device cgroup access, a subset of "rwm"; empty: "rwm"
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct Mount {
  std::string host_path;       // absolute
  std::string container_path;  // absolute
  std::string type;            // empty, "bind" or "none" for a bind mount
  std::vector<std::string> options;
};

// hook_name is an OCI hook stage: prestart, createRuntime, createContainer, startContainer,
// poststart or poststop.
struct Hook {
  std::string hook_name;
  std::string path;  // absolute
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct ContainerEdits {
  std::vector<std::string> env;  // KEY=VALUE
  std::vector<DeviceNode> device_nodes;
  std::vector<Mount> mounts;
  std::vector<Hook> hooks;
  std::vector<uint32_t> additional_gids;  // 0 is ignored (SPEC.md)
  // intelRdt (0.7.0) was given: comet has no resctrl support, so resolving such edits fails
  // rather than silently dropping what the vendor asked for.
  bool intel_rdt = false;

  [[nodiscard]] bool Empty() const;
  // Appends `other`'s edits after these (later env entries win when applied).
  void Append(const ContainerEdits& other);
};

struct Device {
  std::string name;  // unique in the spec (names.h: ValidateDeviceName)
  std::map<std::string, std::string> annotations;
  ContainerEdits edits;  // never empty
};

struct Spec {
  std::string version;  // cdiVersion
  std::string kind;     // "vendor.com/class"
  std::map<std::string, std::string> annotations;
  std::vector<Device> devices;  // at least one
  ContainerEdits edits;         // applied once when any device of the spec is used
  std::string source;           // the file it was read from ("" when parsed from text)
};

// Parses and validates (ValidateSpec) one spec. `source` names the document in errors
// ("/etc/cdi/nvidia.yaml: devices[1].containerEdits.deviceNodes[0].path: must be absolute").
[[nodiscard]] Result<Spec> ParseSpec(std::string_view text, std::string_view source = "");

// Reads at most kMaxSpecBytes of a regular file (symlinks followed, as vendors install them)
// and parses it.
[[nodiscard]] Result<Spec> ReadSpecFile(const std::string& path);

// The spec's version is one this reader knows and not older than the features the spec uses
// need (hostPath needs 0.5.0, ...); kind, device names and every edit are well-formed.
[[nodiscard]] Status ValidateSpec(const Spec& spec);

// The oldest cdiVersion whose format has every field `spec` uses ("0.3.0" ... "0.7.0").
[[nodiscard]] std::string MinimumVersion(const Spec& spec);

// Compares two "MAJOR.MINOR.PATCH" versions (-1, 0, 1); nullopt when either does not parse.
[[nodiscard]] std::optional<int> CompareVersions(std::string_view a, std::string_view b);

}  // namespace comet::cdi

#endif  // COMET_CDI_SPEC_H_
