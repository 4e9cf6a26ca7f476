// config.json (OCI runtime-spec v1.0-1.2) to and from oci::Spec, plus the other JSON documents an
// OCI runtime reads or prints: process.json (`exec --process`), resources (`update -r`) and the
// `state` output. Unknown fields are ignored, as the spec requires; wrong types are errors that
// name the JSON path. Pure functions, thread-safe; nothing throws.
#ifndef COMET_OCI_SPEC_JSON_H_
#define COMET_OCI_SPEC_JSON_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/spec.h"

namespace comet::oci {

// The newest runtime-spec version this runtime implements: features' ociVersionMax and the
// ociVersion of `state`. Validate accepts any 1.x config.
inline constexpr char kOciVersion[] = "1.2.0";
// The ociVersion DefaultSpec writes: it uses only 1.0 fields, and older runtimes refuse newer
// versions (crun 1.8 rejects "1.2.0"), so the file stays usable with them.
inline constexpr char kDefaultSpecVersion[] = "1.0.2";
// The largest config.json LoadSpec reads; real ones, seccomp profiles included, are < 1 MiB.
inline constexpr size_t kMaxConfigSize = size_t{16} << 20;

// Parses a config.json document. Errors carry the context "config.json", e.g.
// "config.json: linux.namespaces[2].type: expected string" or
// "config.json: invalid JSON at byte 17: syntax error while parsing ...".
[[nodiscard]] Result<Spec> ParseSpec(std::string_view json);

// Reads and parses <bundle_dir>/config.json (at most kMaxConfigSize bytes). Errors are prefixed
// with the bundle: "bundle /x: config.json: ...".
[[nodiscard]] Result<Spec> LoadSpec(const std::string& bundle_dir);

// Pretty-printed (2-space) config.json; ParseSpec(SpecToJson(s)) gives back s. Empty optional
// fields are omitted. Invalid UTF-8 in strings is replaced by U+FFFD rather than failing.
std::string SpecToJson(const Spec& spec);

// A "process" object alone, as `exec --process process.json` takes it. Paths in errors are
// relative to the object ("args[0]: expected string"); the caller adds the file name.
[[nodiscard]] Result<Process> ParseProcess(std::string_view json);
std::string ProcessToJson(const Process& process);

// A "linux.resources" object alone, as `update -r resources.json` takes it.
[[nodiscard]] Result<Resources> ParseResources(std::string_view json);
std::string ResourcesToJson(const Resources& resources);

// Fields runc prints in `state` beyond the runtime-spec ones; podman and conmon read runc's
// shape, so the runtime passes these to print it.
struct RuncStateExtras {
  std::string rootfs;   // absolute path of the container's root filesystem
  std::string created;  // RFC 3339 with nanoseconds, UTC (FormatRfc3339Nano)
  std::string owner;    // runc prints "" for containers owned by the caller
};

// The `state` document, pretty-printed.
// Without extras: the runtime-spec set (ociVersion, id, status, pid, bundle, annotations), with
// pid omitted when 0 and annotations omitted when empty.
// With extras: runc's set and order (ociVersion, id, pid, status, bundle, rootfs, created,
// annotations, owner); pid is always printed (0 once stopped), as runc does.
std::string StateToJson(const State& state,
                        const std::optional<RuncStateExtras>& extras = std::nullopt);

}  // namespace comet::oci

#endif  // COMET_OCI_SPEC_JSON_H_
