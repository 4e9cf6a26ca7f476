// Which helper gives a rootless pod its contained network: pasta (Debian package passt) when
// installed, else slirp4netns, as podman chooses; looked up in $PATH. Header-only, so that stage0
// (which checks before the pod starts) needs no supervisor library. Thread-safe (no shared state).
#ifndef COMET_SUPERVISOR_ROOTLESS_NET_TOOL_H_
#define COMET_SUPERVISOR_ROOTLESS_NET_TOOL_H_

#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/result.h"
#include "base/strings.h"
#include "pod/manifest.h"

namespace comet::supervisor {

enum class RootlessNetKind { kPasta, kSlirp4netns };

struct RootlessNetTool {
  RootlessNetKind kind = RootlessNetKind::kPasta;
  std::string path;  // absolute
};

// The search path when $PATH is unset or empty.
inline constexpr const char* kDefaultToolPath = "/usr/local/bin:/usr/bin:/bin";

inline const char* RootlessNetToolName(RootlessNetKind kind) {
  return kind == RootlessNetKind::kPasta ? "pasta" : "slirp4netns";
}

// The first executable "pasta" in `path_env` (a $PATH value: absolute directories only count),
// else the first "slirp4netns"; NotFound naming both packages when there is neither.
[[nodiscard]] inline Result<RootlessNetTool> FindRootlessNetTool(const char* path_env) {
  const std::string_view path =
      path_env != nullptr && *path_env != '\0' ? path_env : kDefaultToolPath;
  const std::vector<std::string> dirs = Split(path, ':');
  for (RootlessNetKind kind : {RootlessNetKind::kPasta, RootlessNetKind::kSlirp4netns}) {
    for (const std::string& dir : dirs) {
      if (dir.empty() || dir[0] != '/') {
        continue;  // a relative entry would depend on the current directory
      }
      std::string candidate = dir + "/" + RootlessNetToolName(kind);
      if (::access(candidate.c_str(), X_OK) == 0) {
        return RootlessNetTool{kind, std::move(candidate)};
      }
    }
  }
  return Err(Error::NotFound(fmt::format(
      "rootless networking needs pasta (package passt) or slirp4netns; neither is in PATH ({}); "
      "install one, or use --net=none or --net=host",
      path)));
}

// Rootless pods have one contained network, "default", which the helper provides.
[[nodiscard]] inline Status CheckRootlessNetworks(const pod::PodManifest& manifest) {
  if (manifest.net != pod::NetMode::kNetworks) {
    return Ok();
  }
  if (manifest.networks.size() != 1 || manifest.networks[0] != "default") {
    return Err(Error::Invalid(fmt::format(
        "--net {}: a rootless pod can only join the \"default\" network (through pasta or "
        "slirp4netns); CNI networks need root",
        Join(manifest.networks, ","))));
  }
  return Ok();
}

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_ROOTLESS_NET_TOOL_H_
