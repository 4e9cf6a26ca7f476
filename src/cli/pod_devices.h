// Stage0's devices: `--device` values (a host device node, podman's PATH[:CONTAINER_PATH]
// [:PERMISSIONS], or a CDI name vendor.com/class=name) and Kubernetes device resources, resolved
// into an app of the pod manifest (pod::App::devices, bind_mounts, hooks, env, supplementary
// gids) so that the supervisor applies them without reading a CDI spec. Not thread-safe (logs
// warnings about broken spec files).
#ifndef COMET_CLI_POD_DEVICES_H_
#define COMET_CLI_POD_DEVICES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cdi/registry.h"
#include "cli/pod_run_flags.h"
#include "pod/manifest.h"

namespace comet::cli {

// The syntax of a --device value, checked when the flag is parsed (nothing is looked at).
[[nodiscard]] Status CheckDeviceFlag(std::string_view value);

// A host device node to add: --device=/dev/sdc[:/dev/xvdc][:rw]. The container path defaults to
// the host path, the permissions to "rwm".
struct HostDeviceFlag {
  std::string host_path;
  std::string container_path;
  std::string permissions = "rwm";
};
[[nodiscard]] Result<HostDeviceFlag> ParseHostDeviceFlag(std::string_view value);

// The CDI registry of `spec_dirs` (empty: /etc/cdi, /var/run/cdi), loaded when first needed,
// its broken spec files logged once as warnings.
class CdiResolver {
 public:
  explicit CdiResolver(std::vector<std::string> spec_dirs) : spec_dirs_(std::move(spec_dirs)) {}

  // Resolves `names` and adds their edits to `app`: device nodes (a later one replaces an
  // earlier one at the same path), bind mounts, hooks, env (merged: a CDI variable replaces the
  // app's), additional gids (0 ignored), and the names to app.cdi_devices.
  [[nodiscard]] Status AddDevices(pod::App& app, const std::vector<std::string>& names);
  // The first `count` devices of `kind` (cdi::Registry::PickDevices), added as above.
  [[nodiscard]] Status AddDeviceCount(pod::App& app, std::string_view kind, size_t count);

 private:
  const cdi::Registry& registry();

  std::vector<std::string> spec_dirs_;
  std::optional<cdi::Registry> registry_;
};

// `comet play`'s entry points (one registry load per call). An app built through stage0
// (AppFlags) can instead get the names in AppFlags::devices: PickCdiDevices turns a Kubernetes
// resource count (limits["nvidia.com/gpu"]: 2) into such names.
[[nodiscard]] Status AddCdiDevices(pod::App& app, const std::vector<std::string>& names,
                                   const std::vector<std::string>& spec_dirs);
[[nodiscard]] Status AddCdiDeviceCount(pod::App& app, std::string_view kind, size_t count,
                                       const std::vector<std::string>& spec_dirs);
[[nodiscard]] Result<std::vector<std::string>> PickCdiDevices(
    std::string_view kind, size_t count, const std::vector<std::string>& spec_dirs);

// The pod-level --device values, then the app's own, into `app`: host nodes stat'ed now (a
// missing or non-device path is an error), CDI names through the registry of `spec_dirs`.
[[nodiscard]] Status ApplyDeviceFlags(const PodRunOptions& options, const AppFlags& flags,
                                      const std::vector<std::string>& spec_dirs, pod::App& app);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_DEVICES_H_
