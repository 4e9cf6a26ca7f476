// rkt-style parsing of the pod commands' arguments: a flag table (scope and commands per flag)
// and a token loop that tracks which image group a flag belongs to. Applying a flag's value is
// in pod_run_flag_apply.cc, the value parsers in pod_run_values.cc. Pure, thread-safe.
#include "cli/pod_run_flags.h"

#include <array>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/pod_devices.h"
#include "cli/pod_run_flag_apply.h"
#include "cli/pod_run_values.h"

namespace comet::cli {
namespace {

using internal::ApplyAppFlag;
using internal::ApplyBoolFlag;
using internal::ApplyPodFlag;
using internal::ParseBool;

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
    FlagSpec{"port", 0, true, kPod, kMake},
    FlagSpec{"hosts-entry", 0, true, kPod, kMake},
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
    FlagSpec{"device", 0, true, kPod | kApp, kRun | kPrepare | kAppAdd},
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
  if (spec.name == "device") {  // checked now, resolved by stage0 (cli/pod_devices.h)
    RETURN_IF_ERROR(CheckDeviceFlag(*value));
    (app != nullptr ? app->devices : out.pod_devices).push_back(*value);
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
  // rkt's default: a pod gets the default network (--net changes it).
  if (command == "run" || command == "prepare" || command == "app sandbox") {
    out.pod.net = pod::NetMode::kNetworks;
    out.pod.networks = {"default"};
  }
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

}  // namespace comet::cli
