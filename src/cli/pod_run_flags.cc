// rkt-style parsing of the pod commands' arguments: a flag table (scope and commands per flag),
// a token loop that tracks which image group a flag belongs to, and one value parser per flag.
#include "cli/pod_run_flags.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/update_flags.h"
#include "cli/user_spec.h"

namespace comet::cli {
namespace {

// Where a flag may appear: before the first image (pod), after an image (app), or both.
constexpr unsigned kPod = 1;
constexpr unsigned kApp = 2;

// Which commands accept a flag.
constexpr unsigned kRun = 1;
constexpr unsigned kPrepare = 2;
constexpr unsigned kRunPrepared = 4;
constexpr unsigned kSandbox = 8;
constexpr unsigned kAppAdd = 16;
constexpr unsigned kAll = kRun | kPrepare | kRunPrepared | kSandbox | kAppAdd;
constexpr unsigned kMake = kRun | kPrepare | kSandbox;  // commands that make a new pod
constexpr unsigned kApps = kRun | kPrepare | kAppAdd;   // commands that take images

struct FlagSpec {
  std::string_view name;
  char short_name;  // '\0': none
  bool takes_value;
  unsigned scope;
  unsigned commands;
};

constexpr std::array kFlags = {
    // Pod flags.
    FlagSpec{"hostname", 0, true, kPod, kMake},
    FlagSpec{"dns", 0, true, kPod, kMake},
    FlagSpec{"dns-search", 0, true, kPod, kMake},
    FlagSpec{"dns-opt", 0, true, kPod, kMake},
    FlagSpec{"net", 0, true, kPod, kMake},
    FlagSpec{"volume", 0, true, kPod, kMake},
    FlagSpec{"set-env", 0, true, kPod, kRun | kPrepare},
    FlagSpec{"set-env-file", 0, true, kPod, kRun | kPrepare},
    FlagSpec{"uuid-file-save", 0, true, kPod, kMake},
    FlagSpec{"pull-policy", 0, true, kPod, kApps},
    FlagSpec{"pod-name", 0, true, kPod, kMake},
    FlagSpec{"annotation", 0, true, kPod, kMake},
    FlagSpec{"pid", 0, true, kPod, kMake},
    FlagSpec{"stop-timeout", 0, true, kPod, kMake},
    FlagSpec{"no-overlay", 0, false, kPod, kMake},
    FlagSpec{"insecure-options", 0, true, kPod, kMake},
    FlagSpec{"quiet", 'q', false, kPod, kPrepare | kSandbox},
    FlagSpec{"attach", 0, false, kPod, kRun},
    FlagSpec{"detach", 'd', false, kPod, kRun | kRunPrepared | kSandbox},
    FlagSpec{"rm", 0, false, kPod, kRun | kRunPrepared},
    FlagSpec{"help", 'h', false, kPod | kApp, kAll},
    // Both: before the first image for the pod (or its first app), after an image for that app.
    FlagSpec{"mount", 0, true, kPod | kApp, kRun | kPrepare | kAppAdd},
    FlagSpec{"interactive", 'i', false, kPod | kApp, kRun | kPrepare | kRunPrepared | kAppAdd},
    FlagSpec{"tty", 't', false, kPod | kApp, kRun | kPrepare | kAppAdd},
    // App flags.
    FlagSpec{"name", 0, true, kApp, kApps},
    FlagSpec{"exec", 0, true, kApp, kApps},
    FlagSpec{"environment", 0, true, kApp, kApps},
    FlagSpec{"user", 0, true, kApp, kApps},
    FlagSpec{"group", 0, true, kApp, kApps},
    FlagSpec{"supplementary-gids", 0, true, kApp, kApps},
    FlagSpec{"working-dir", 0, true, kApp, kApps},
    FlagSpec{"readonly-rootfs", 0, false, kApp, kApps},
    FlagSpec{"cpu", 0, true, kApp, kApps},
    FlagSpec{"cpu-shares", 0, true, kApp, kApps},
    FlagSpec{"memory", 0, true, kApp, kApps},
    FlagSpec{"pids-limit", 0, true, kApp, kApps},
    FlagSpec{"oom-score-adj", 0, true, kApp, kApps},
    FlagSpec{"caps-retain", 0, true, kApp, kApps},
    FlagSpec{"caps-remove", 0, true, kApp, kApps},
    FlagSpec{"restart", 0, true, kApp, kApps},
    FlagSpec{"init", 0, false, kApp, kApps},
};

unsigned CommandBit(const std::string& command) {
  if (command == "run") {
    return kRun;
  }
  if (command == "prepare") {
    return kPrepare;
  }
  if (command == "run-prepared") {
    return kRunPrepared;
  }
  if (command == "app sandbox") {
    return kSandbox;
  }
  if (command == "app add") {
    return kAppAdd;
  }
  return 0;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (spec.name == name) {
      return &spec;
    }
  }
  return nullptr;
}

const FlagSpec* FindShortFlag(char c) {
  for (const FlagSpec& spec : kFlags) {
    if (spec.short_name != 0 && spec.short_name == c) {
      return &spec;
    }
  }
  return nullptr;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Go's strconv.ParseBool, as rkt's flags read booleans.
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
  out.pod_mounts.push_back(pod::MountPoint{volume.name, parts[1], volume.read_only});
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
    if (value == "none") {
      pod.net = pod::NetMode::kNone;
    } else if (value == "host") {
      pod.net = pod::NetMode::kHost;
    } else {
      return Err(Error::Invalid(fmt::format(
          "{:?}: contained networking is not available yet (use none or host)", value)));
    }
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
    if (value == "new") {
      out.pull_policy = PullPolicy::kNew;
    } else if (value == "never") {
      out.pull_policy = PullPolicy::kNever;
    } else if (value == "update") {
      out.pull_policy = PullPolicy::kUpdate;
    } else {
      return Err(Error::Invalid(fmt::format("{:?}: expected new, never or update", value)));
    }
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

// Checks that `spec` may appear here (command, pod or app position).
Status CheckPlacement(const FlagSpec& spec, const std::string& command, bool in_app) {
  if ((spec.commands & CommandBit(command)) == 0) {
    return Err(Error::Invalid(fmt::format("not a flag of {}", command)));
  }
  if (in_app && (spec.scope & kApp) == 0) {
    return Err(Error::Invalid("a pod flag: give it before the first image"));
  }
  if (!in_app && (spec.scope & kPod) == 0) {
    return Err(Error::Invalid("an app flag: give it after its image"));
  }
  return Ok();
}

// Applies one flag with its value (nullopt: a boolean given without "=value").
Status ApplyFlag(const FlagSpec& spec, const std::optional<std::string>& value, PodRunOptions& out,
                 AppFlags* app) {
  if (!spec.takes_value) {
    bool on = true;
    if (value) {
      ASSIGN_OR_RETURN(on, ParseBool(*value));
    }
    return ApplyBoolFlag(spec.name, on, out, app);
  }
  if (spec.name == "mount" && app == nullptr) {
    ASSIGN_OR_RETURN(pod::MountPoint mount, ParseMountFlag(*value));
    out.pod_mounts.push_back(std::move(mount));
    return Ok();
  }
  if ((spec.scope & kApp) != 0 && app != nullptr) {
    return ApplyAppFlag(spec.name, *value, *app);
  }
  return ApplyPodFlag(spec.name, *value, out);
}

// The argument loop. `index` points at a flag token ("--x", "--x=v", "-it"); consumes it (and
// its value) and applies it.
Status ParseFlagToken(const std::vector<std::string>& args, size_t& index,
                      const std::string& command, PodRunOptions& out, AppFlags* app) {
  const std::string& token = args[index++];
  if (!StartsWith(token, "--")) {  // short flags, possibly grouped: -it
    for (size_t k = 1; k < token.size(); ++k) {
      const FlagSpec* spec = FindShortFlag(token[k]);
      const std::string shown = fmt::format("-{}", token[k]);
      if (spec == nullptr || spec->takes_value) {
        return Err(Error::Invalid(fmt::format("unknown flag {}", shown)));
      }
      RETURN_IF_ERROR_CTX(CheckPlacement(*spec, command, app != nullptr), shown);
      RETURN_IF_ERROR_CTX(ApplyFlag(*spec, std::nullopt, out, app), shown);
    }
    return Ok();
  }
  const size_t eq = token.find('=');
  const std::string name = token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  const std::string shown = "--" + name;
  const FlagSpec* spec = FindFlag(name);
  if (spec == nullptr) {
    return Err(Error::Invalid(fmt::format("unknown flag {}", shown)));
  }
  RETURN_IF_ERROR_CTX(CheckPlacement(*spec, command, app != nullptr), shown);
  std::optional<std::string> value;
  if (eq != std::string::npos) {
    value = token.substr(eq + 1);
  } else if (spec->takes_value) {
    if (index >= args.size()) {
      return Err(Error::Invalid(fmt::format("{}: missing value", shown)));
    }
    value = args[index++];
  }
  RETURN_IF_ERROR_CTX(ApplyFlag(*spec, value, out, app), shown);
  return Ok();
}

bool IsFlagToken(const std::string& token) {
  return token.size() > 1 && token[0] == '-' && token != "--" && token != "---";
}

// What ParseImageGroups found: the images (and app add's UUID) the command needs.
Status CheckImageGroups(const PodRunOptions& out, bool wants_uuid) {
  if (out.help) {
    return Ok();
  }
  if (wants_uuid && out.uuid.empty()) {
    return Err(Error::Invalid("missing pod UUID"));
  }
  if (out.apps.empty()) {
    return Err(Error::Invalid("missing image: give at least one IMAGE"));
  }
  if (wants_uuid && out.apps.size() > 1) {
    return Err(Error::Invalid(fmt::format("{}: app add takes one image", out.apps[1].app.image)));
  }
  return Ok();
}

// run, prepare, app add: [pod flags] [UUID (app add)] IMAGE [app flags] [-- ARGS] [--- ...].
Status ParseImageGroups(const std::vector<std::string>& args, PodRunOptions& out) {
  enum class State { kPodFlags, kAppFlags, kArgs, kNeedImage } state = State::kPodFlags;
  const bool wants_uuid = out.command == "app add";
  size_t i = 0;
  while (i < args.size()) {
    const std::string& token = args[i];
    AppFlags* app = out.apps.empty() ? nullptr : &out.apps.back();
    if (state == State::kArgs && token != "---") {
      app->args.push_back(token);
      ++i;
      continue;
    }
    if (token == "---") {
      if (app == nullptr) {
        return Err(Error::Invalid("---: expected an image before it"));
      }
      state = State::kNeedImage;
      ++i;
      continue;
    }
    if (token == "--") {
      if (app == nullptr || state == State::kNeedImage) {
        return Err(Error::Invalid("--: arguments must follow an image"));
      }
      app->args_given = true;
      state = State::kArgs;
      ++i;
      continue;
    }
    if (IsFlagToken(token)) {
      if (state == State::kNeedImage) {
        return Err(Error::Invalid(fmt::format("{}: expected an image after ---", token)));
      }
      RETURN_IF_ERROR(ParseFlagToken(args, i, out.command, out, app));
      continue;
    }
    if (wants_uuid && out.uuid.empty()) {
      out.uuid = token;
    } else {
      AppFlags next;
      next.app.image = token;
      out.apps.push_back(std::move(next));
      state = State::kAppFlags;
    }
    ++i;
  }
  if (state == State::kNeedImage) {
    return Err(Error::Invalid("---: expected an image after it"));
  }
  return CheckImageGroups(out, wants_uuid);
}

// run-prepared UUID [flags], app sandbox [flags]: flags and at most one positional.
Status ParseFlagsOnly(const std::vector<std::string>& args, PodRunOptions& out) {
  size_t i = 0;
  while (i < args.size()) {
    const std::string& token = args[i];
    if (IsFlagToken(token)) {
      RETURN_IF_ERROR(ParseFlagToken(args, i, out.command, out, nullptr));
      continue;
    }
    if (out.command == "run-prepared" && out.uuid.empty() && token != "--" && token != "---") {
      out.uuid = token;
      ++i;
      continue;
    }
    return Err(Error::Invalid(
        fmt::format("{:?}: unexpected argument{}", token,
                    out.command == "app sandbox" ? " (add apps with app add)" : "")));
  }
  if (out.command == "run-prepared" && out.uuid.empty() && !out.help) {
    return Err(Error::Invalid("missing pod UUID"));
  }
  return Ok();
}

}  // namespace

Result<PodRunOptions> ParsePodRunArgs(const std::string& command,
                                      const std::vector<std::string>& args) {
  if (CommandBit(command) == 0) {
    return Err(Error::Invalid(fmt::format("unknown command {:?}", command)));
  }
  PodRunOptions out;
  out.command = command;
  if (command == "run-prepared" || command == "app sandbox") {
    RETURN_IF_ERROR(ParseFlagsOnly(args, out));
  } else {
    RETURN_IF_ERROR(ParseImageGroups(args, out));
  }
  if (command == "app sandbox") {
    out.pod.mutable_pod = true;
    out.detach = true;
  }
  // Pod-level -i/-t belong to the first app (rkt's --interactive).
  if (!out.apps.empty()) {
    out.apps.front().app.stdin = out.apps.front().app.stdin || out.interactive;
    out.apps.front().app.tty = out.apps.front().app.tty || out.tty;
  }
  return out;
}

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

namespace {

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
