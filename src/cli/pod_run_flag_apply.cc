// Applying the pod commands' flags to PodRunOptions (see pod_run_flag_apply.h). Pure,
// thread-safe.
#include "cli/pod_run_flag_apply.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/pod_net_flags.h"
#include "cli/pod_run_values.h"
#include "cli/user_spec.h"

namespace comet::cli::internal {
namespace {

// The podman shorthand `/host:/ctr[:ro|rw]`: a host volume mounted in every app.
Status ParseVolumeShorthand(std::string_view text, PodRunOptions& out) {
  std::vector<std::string> parts = Split(text, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
      parts[1].front() != '/') {
    return Err(Error::Invalid(fmt::format("{:?}: expected /HOST:/CONTAINER[:ro]", text)));
  }
  pod::Volume volume;
  volume.name = fmt::format("host-{}", out.pod.volumes.size());
  volume.kind = pod::VolumeKind::kHost;
  volume.source = parts[0];
  if (parts.size() == 3) {
    if (parts[2] != "ro" && parts[2] != "rw") {
      return Err(Error::Invalid(fmt::format("{:?}: unknown option {:?}", text, parts[2])));
    }
    volume.read_only = parts[2] == "ro";
  }
  out.pod_mounts.push_back(pod::MountPoint{volume.name, parts[1], volume.read_only, ""});
  out.pod.volumes.push_back(std::move(volume));
  return Ok();
}

// rkt's pod-level --insecure-options: a comma list. Only the seccomp opt-out exists so far;
// the other security features rkt could turn off are refused rather than silently kept on.
Status ApplyInsecureOptions(std::string_view value, pod::PodManifest& pod) {
  constexpr std::array<std::string_view, 9> kUnsupported = {
      "capabilities", "paths", "image", "tls", "ondisk", "http", "pubkey", "all-fetch", "all"};
  for (const std::string& option : Split(value, ',')) {
    if (option == "seccomp" || option == "all-run") {
      pod.annotations[pod::kSeccompAnnotation] = pod::kSeccompUnconfined;
    } else if (std::find(kUnsupported.begin(), kUnsupported.end(), option) != kUnsupported.end()) {
      return Err(Error::Invalid(
          fmt::format("{:?}: not supported (only seccomp and all-run are, for now)", option)));
    } else if (option != "none") {
      return Err(Error::Invalid(
          fmt::format("{:?}: unknown option (expected seccomp, all-run or none)", option)));
    }
  }
  return Ok();
}

Result<PullPolicy> ParsePullPolicy(std::string_view value) {
  if (value == "new") {
    return PullPolicy::kNew;
  }
  if (value == "never") {
    return PullPolicy::kNever;
  }
  if (value == "update") {
    return PullPolicy::kUpdate;
  }
  return Err(Error::Invalid(fmt::format("{:?}: expected new, never or update", value)));
}

// App flags that tune resources.
Status ApplyResourceFlag(std::string_view name, const std::string& value, pod::Resources& r) {
  if (name == "cpu") {
    ASSIGN_OR_RETURN(r.cpu_millis, ParseCpuMillis(value));
  } else if (name == "cpu-shares") {
    ASSIGN_OR_RETURN(int64_t shares, ParseNonNegative(value));
    r.cpu_shares = static_cast<uint64_t>(shares);
  } else if (name == "memory") {
    ASSIGN_OR_RETURN(r.memory_bytes, ParseByteSize(value));
  } else if (name == "pids-limit") {
    ASSIGN_OR_RETURN(r.pids, ParseNonNegative(value));
  } else {  // oom-score-adj
    std::optional<long long> adj = ParseInt(value);
    if (!adj || *adj < -1000 || *adj > 1000) {
      return Err(Error::Invalid(fmt::format("{:?}: expected an integer in [-1000, 1000]", value)));
    }
    r.oom_score_adj = static_cast<int>(*adj);
  }
  return Ok();
}

}  // namespace

Status ApplyPodFlag(std::string_view name, const std::string& value, PodRunOptions& out) {
  pod::PodManifest& pod = out.pod;
  if (name == "hostname") {
    pod.hostname = value;
  } else if (name == "dns") {
    pod.dns.push_back(value);
  } else if (name == "dns-search") {
    pod.dns_search.push_back(value);
  } else if (name == "dns-opt") {
    pod.dns_opt.push_back(value);
  } else if (name == "net") {
    return ApplyNetFlag(value, pod);
  } else if (name == "port") {
    ASSIGN_OR_RETURN(pod::PortMapping port, ParsePortFlag(value));
    pod.ports.push_back(std::move(port));
  } else if (name == "hosts-entry") {
    ASSIGN_OR_RETURN(pod::HostsEntry entry, ParseHostsEntryFlag(value));
    pod.hosts_entries.push_back(std::move(entry));
  } else if (name == "volume") {
    if (StartsWith(value, "/")) {
      return ParseVolumeShorthand(value, out);
    }
    ASSIGN_OR_RETURN(pod::Volume volume, ParseVolumeFlag(value));
    pod.volumes.push_back(std::move(volume));
  } else if (name == "set-env") {
    RETURN_IF_ERROR(CheckKeyValue(value));
    out.set_env.push_back(value);
  } else if (name == "set-env-file") {
    out.set_env_files.push_back(value);
  } else if (name == "uuid-file-save") {
    out.uuid_file_save = value;
  } else if (name == "pull-policy") {
    ASSIGN_OR_RETURN(out.pull_policy, ParsePullPolicy(value));
  } else if (name == "pod-name") {
    pod.name = value;
  } else if (name == "annotation") {
    RETURN_IF_ERROR(CheckKeyValue(value));
    const size_t eq = value.find('=');
    pod.annotations[value.substr(0, eq)] = value.substr(eq + 1);
  } else if (name == "pid") {
    if (value != "private" && value != "pod") {
      return Err(Error::Invalid(fmt::format("{:?}: expected private or pod", value)));
    }
    pod.share_pid = value == "pod";
  } else if (name == "stop-timeout") {
    ASSIGN_OR_RETURN(pod.stop_grace_seconds, ParseSeconds(value));
  } else if (name == "insecure-options") {
    return ApplyInsecureOptions(value, pod);
  } else {
    return Err(Error::Invalid("unhandled flag"));
  }
  return Ok();
}

Status ApplyAppFlag(std::string_view name, const std::string& value, AppFlags& app) {
  if (name == "name") {
    app.app.name = value;
  } else if (name == "exec") {
    if (value.empty()) {
      return Err(Error::Invalid("empty command"));
    }
    app.exec = value;
  } else if (name == "environment") {
    RETURN_IF_ERROR(CheckKeyValue(value));
    app.environment.push_back(value);
  } else if (name == "user") {
    app.user = value;
  } else if (name == "group") {
    app.group = value;
  } else if (name == "supplementary-gids") {
    ASSIGN_OR_RETURN(std::vector<uint32_t> gids, ParseGids({value}));
    app.app.supplementary_gids.insert(app.app.supplementary_gids.end(), gids.begin(), gids.end());
  } else if (name == "working-dir") {
    if (!StartsWith(value, "/")) {
      return Err(Error::Invalid(fmt::format("{:?}: must be an absolute path", value)));
    }
    app.working_dir = value;
  } else if (name == "caps-retain" || name == "caps-remove") {
    ASSIGN_OR_RETURN(std::vector<std::string> caps, ParseCapList(value));
    std::vector<std::string>& list =
        name == "caps-retain" ? app.app.caps_retain : app.app.caps_remove;
    list.insert(list.end(), caps.begin(), caps.end());
  } else if (name == "restart") {
    ASSIGN_OR_RETURN(app.app.restart, pod::ParseRestartPolicy(value));
  } else if (name == "mount") {
    ASSIGN_OR_RETURN(pod::MountPoint mount, ParseMountFlag(value));
    app.app.mounts.push_back(std::move(mount));
  } else {
    return ApplyResourceFlag(name, value, app.app.resources);
  }
  return Ok();
}

Status ApplyBoolFlag(std::string_view name, bool value, PodRunOptions& out, AppFlags* app) {
  if (name == "no-overlay") {
    out.no_overlay = value;
  } else if (name == "quiet") {
    out.quiet = value;
  } else if (name == "attach") {
    if (value && out.detach) {
      return Err(Error::Invalid("cannot be used with --detach"));
    }
    out.detach = out.detach && !value;
  } else if (name == "detach") {
    out.detach = value;
  } else if (name == "rm") {
    out.rm = value;
  } else if (name == "help") {
    out.help = value;
  } else if (name == "interactive") {
    (app != nullptr ? app->app.stdin : out.interactive) = value;
  } else if (name == "tty") {
    (app != nullptr ? app->app.tty : out.tty) = value;
  } else if (name == "readonly-rootfs" && app != nullptr) {
    app->app.read_only_rootfs = value;
  } else if (name == "init" && app != nullptr) {
    app->app.init = value;
  } else {
    return Err(Error::Invalid("unhandled flag"));
  }
  return Ok();
}

}  // namespace comet::cli::internal
