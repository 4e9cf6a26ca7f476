// The raw arguments of `comet run`, `prepare`, `run-prepared`, `app sandbox` and `app add`, parsed
// rkt's way: pod flags, then `IMAGE [app flags] [-- ARGS...]` groups separated by `---` (or by
// the next image), `--flag=value` and `--flag value` both accepted. The result is a draft of the
// pod manifest plus what stage0 itself needs; images are not looked at here. Pure, thread-safe.
#ifndef COMET_CLI_POD_RUN_FLAGS_H_
#define COMET_CLI_POD_RUN_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pod/manifest.h"

namespace comet::cli {

// rkt's --pull-policy: kNew pulls only images missing from the store, kNever never pulls,
// kUpdate pulls every registry image again (cheap when nothing changed).
enum class PullPolicy { kNew, kNever, kUpdate };

// One `IMAGE [app flags] [-- ARGS...]` group.
struct AppFlags {
  // What the flags set directly: name (empty: from the image), image (the IMAGE argument as
  // given), read_only_rootfs, caps, resources, mounts, restart, init, stdin, tty,
  // supplementary_gids. exec/env/user/group/working_dir are left to stage0, which merges the
  // image config with the optional values below.
  pod::App app;
  std::optional<std::string> exec;  // --exec
  // Kubernetes' command (`comet play`): replaces the image's entrypoint, and its cmd unless
  // args are given too.
  std::optional<std::vector<std::string>> command;
  std::optional<PullPolicy> pull_policy;  // this app's; else the pod's --pull-policy
  bool args_given = false;                // "--" was given (ARGS may be empty)
  std::vector<std::string> args;          // after "--"
  std::vector<std::string> environment;   // --environment K=V, in order
  std::optional<std::string> user;        // --user
  std::optional<std::string> group;       // --group
  std::optional<std::string> working_dir;
  // --device values (host nodes, CDI names), in order; resolved by stage0 (cli/pod_devices.h).
  std::vector<std::string> devices;
};

// A file stage0 writes into the new pod's directory before the supervisor starts (`comet play`'s
// configMap and secret volume contents, under pod::Volume::seed). Contents are never logged.
struct PodFile {
  std::string path;  // relative to the pod directory, clean (checked when written)
  std::string content;
  uint32_t mode = 0644;
};

struct PodRunOptions {
  std::string command;  // "run", "prepare", "run-prepared", "app sandbox", "app add"
  // Pod-level fields: name, hostname, dns*, net, volumes, share_pid, stop_grace_seconds,
  // annotations. uuid, created, apps and rootless are stage0's.
  pod::PodManifest pod;
  std::vector<pod::MountPoint> pod_mounts;  // --mount before the first image: every app
  std::vector<std::string> pod_devices;     // --device before the first image: every app
  std::vector<std::string> set_env;         // --set-env K=V, in order
  std::vector<std::string> set_env_files;   // --set-env-file PATH, in order
  std::vector<AppFlags> apps;
  bool interactive = false;  // pod-level -i/-t: the first app's
  bool tty = false;
  bool detach = false;
  bool rm = false;
  bool quiet = false;
  bool no_overlay = false;
  bool help = false;  // --help/-h: print PodRunHelp, nothing else
  std::string uuid_file_save;
  std::vector<PodFile> pod_files;
  bool print_uuid = true;  // a started or prepared pod's UUID on stdout (`play` prints its own)
  PullPolicy pull_policy = PullPolicy::kNew;
  std::string uuid;  // run-prepared, app add: the pod (full uuid or prefix)
};

// Parses `args` (everything after the command word). Errors name the flag or argument.
[[nodiscard]] Result<PodRunOptions> ParsePodRunArgs(const std::string& command,
                                                    const std::vector<std::string>& args);

// Value parsers, exposed for tests. "500m" -> 500, "2" -> 2000, "0.5" -> 500.
[[nodiscard]] Result<int64_t> ParseCpuMillis(std::string_view text);
// Bytes with an optional binary unit: 512, 64k, 128M, 1Gi, 2GiB (k = 1024).
[[nodiscard]] Result<int64_t> ParseByteSize(std::string_view text);
// "net_admin,CAP_SYS_TIME" -> {"CAP_NET_ADMIN", "CAP_SYS_TIME"}.
[[nodiscard]] Result<std::vector<std::string>> ParseCapList(std::string_view text);
// rkt's `NAME,kind=host,source=PATH,...` / `NAME,kind=empty,...`.
[[nodiscard]] Result<pod::Volume> ParseVolumeFlag(std::string_view text);
// `volume=NAME,target=PATH[,readOnly=BOOL]`.
[[nodiscard]] Result<pod::MountPoint> ParseMountFlag(std::string_view text);

}  // namespace comet::cli

#endif  // COMET_CLI_POD_RUN_FLAGS_H_
