// Pod commands on existing pods: list, status, stop, rm, gc, cat-manifest and app
// start/stop/rm/list/status; logs and the process commands are in pod_logs.cc and pod_exec.cc.
#include "cli/pod_commands.h"

#include <signal.h>
#include <unistd.h>

#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/log.h"
#include "cli/data_dir.h"
#include "cli/event_record.h"
#include "cli/pod_access.h"
#include "cli/pod_exec.h"
#include "cli/pod_format.h"
#include "cli/pod_logs.h"
#include "cli/rootless_userns.h"
#include "os/file.h"
#include "pod/control.h"
#include "pod/pod_dir.h"
#include "pod/teardown.h"

namespace comet::cli {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

constexpr int kExitError = 254;
// How often `status --wait-ready` looks at the ready link.
constexpr milliseconds kReadyPoll{50};
// After the grace period, how long `stop` still waits for the supervisor to exit.
constexpr std::chrono::seconds kStopSlack{30};
// `stop --force` without a control socket: the pause between its two SIGTERMs.
constexpr std::chrono::milliseconds kForceTermInterval{500};

void Warn(const std::string& command, const Error& error) {
  (void)os::WriteAll(STDERR_FILENO, fmt::format("comet: {}: {}\n", command, error.ToString()));
}

std::optional<milliseconds> WaitLimit(std::chrono::nanoseconds flag) {
  if (flag == PodFlags::kForever) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<milliseconds>(flag);
}

Result<int> DoList(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, store.List());
  std::vector<PodView> pods;
  pods.reserve(entries.size());
  for (pod::PodEntry& entry : entries) {
    pods.push_back(ReadPodView(store, std::move(entry)));
  }
  if (in.pod.format == "table") {
    RETURN_IF_ERROR(
        PrintOut(FormatPodTable(pods, {.full = in.pod.full, .no_legend = in.pod.no_legend})));
  } else {
    RETURN_IF_ERROR(PrintOut(FormatPodListJson(pods, in.pod.format == "json-pretty")));
  }
  return 0;
}

bool IsReady(const std::string& pod_dir) {
  char target[64];
  const std::string link = os::JoinPath(pod_dir, pod::kReadyLink);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof(target));
  return n == 5 && std::string_view(target, 5) == "ready";
}

// Polls until every app started; an error when the pod exits first or the time is up.
Status WaitReady(const pod::PodStore& store, const std::string& uuid,
                 std::optional<milliseconds> limit) {
  const auto deadline = Clock::now() + limit.value_or(milliseconds(0));
  while (true) {
    ASSIGN_OR_RETURN(pod::PodEntry entry, store.Refresh(uuid));
    if (IsReady(entry.path)) {
      return Ok();
    }
    if (entry.state == pod::PodState::kExited || entry.state == pod::PodState::kGarbage ||
        entry.state == pod::PodState::kAbortedPrepare || entry.gc_marked) {
      return Err(Error::Invalid(
          fmt::format("pod {} is {}: it never became ready", uuid, PodStateWord(entry))));
    }
    if (limit && Clock::now() >= deadline) {
      return Err(
          Error(ETIMEDOUT, fmt::format("pod {} not ready after {}", uuid, FormatDuration(*limit))));
    }
    std::this_thread::sleep_for(kReadyPoll);
  }
}

Result<int> DoStatus(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, ResolvePod(store, in.pod));
  if (in.pod.wait_ready) {
    RETURN_IF_ERROR(WaitReady(store, entry.uuid, WaitLimit(*in.pod.wait_ready)));
  }
  if (in.pod.wait) {
    const std::optional<milliseconds> limit = WaitLimit(*in.pod.wait);
    ASSIGN_OR_RETURN(bool exited, store.WaitExited(entry.uuid, limit));
    if (!exited) {
      return Err(Error(ETIMEDOUT, fmt::format("pod {} still running after {}", entry.uuid,
                                              FormatDuration(*limit))));
    }
  }
  ASSIGN_OR_RETURN(entry, store.Refresh(entry.uuid));
  PodView view = ReadPodView(store, entry);
  if (in.pod.format == "table") {
    RETURN_IF_ERROR(PrintOut(FormatPodStatus(view)));
  } else {
    RETURN_IF_ERROR(PrintOut(FormatPodStatusJson(view, in.pod.format == "json-pretty")));
  }
  return 0;
}

milliseconds GraceOf(const PodFlags& flags) {
  if (flags.force) {
    return milliseconds(0);
  }
  if (flags.timeout) {
    return std::chrono::duration_cast<milliseconds>(*flags.timeout);
  }
  return milliseconds(-1);
}

// SIGTERM to the supervisor in <pod>/pid; with `force`, a second SIGTERM unless it is gone
// quickly (the supervisor takes a second one as "SIGKILL the apps now"). Signals are sent
// apart: two pending SIGTERMs would merge into one.
Status SignalSupervisor(const pod::PodStore& store, const pod::PodEntry& entry, bool force) {
  ASSIGN_OR_RETURN(pid_t pid, pod::ReadPodPid(entry.path));
  if (pid <= 1) {
    return Err(Error::Invalid(fmt::format("pod {}: no valid supervisor pid", entry.uuid)));
  }
  for (int round = 0; round < (force ? 2 : 1); ++round) {
    if (round > 0) {
      ASSIGN_OR_RETURN(bool exited, store.WaitExited(entry.uuid, kForceTermInterval));
      if (exited) {
        return Ok();
      }
    }
    if (::kill(pid, SIGTERM) != 0) {
      if (errno == ESRCH) {
        return Ok();
      }
      return Err(Error::FromErrno("kill", fmt::format("supervisor pid {}", pid)));
    }
  }
  return Ok();
}

// Stops one running pod and waits until its supervisor is gone.
Status StopPod(const pod::PodStore& store, pod::PodEntry entry, const PodFlags& flags) {
  RETURN_IF_ERROR(CheckRunning(entry));
  milliseconds grace = GraceOf(flags);
  pod::ControlRequest request;
  request.op = pod::ControlOp::kStop;
  request.grace = grace;
  if (grace.count() < 0) {
    auto manifest = ReadPodManifest(store, entry);
    grace = std::chrono::seconds(manifest ? manifest->stop_grace_seconds : 10);
  }
  auto reply = pod::CallControl(entry.path, request);
  if (!reply) {
    // No control socket (a supervisor still starting), or no reply in time (wedged): rkt's
    // way, a signal.
    log::Debug("stop {}: control socket: {}; sending SIGTERM", entry.uuid,
               reply.error().ToString());
    RETURN_IF_ERROR(SignalSupervisor(store, entry, flags.force));
  }
  const milliseconds limit = grace + std::chrono::duration_cast<milliseconds>(kStopSlack);
  ASSIGN_OR_RETURN(bool exited, store.WaitExited(entry.uuid, limit));
  if (!exited) {
    return Err(Error(ETIMEDOUT, fmt::format("pod {} did not exit within {}", entry.uuid,
                                            FormatDuration(limit))));
  }
  return Ok();
}

Result<int> DoStop(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, ResolvePods(store, in.pod));
  int exit_code = 0;
  for (pod::PodEntry& entry : entries) {
    const std::string uuid = entry.uuid;
    Status stopped = StopPod(store, std::move(entry), in.pod);
    if (!stopped) {
      Warn("stop", stopped.error());
      exit_code = kExitError;
      continue;
    }
    RETURN_IF_ERROR(PrintOut(uuid + "\n"));
  }
  return exit_code;
}

pod::TeardownOptions TeardownOptionsFor(const CometGlobalFlags& global) {
  pod::TeardownOptions options;
  if (auto data_dir = DataDir(global.dir); data_dir) {
    options.image_store_dir = ImageStoreDir(*data_dir);
  }
  options.rootless = ::geteuid() != 0 || InRootlessUserNamespace();
  return options;
}

// Tears down and removes a pod already in exited-garbage/ or garbage/.
Status SweepPod(const pod::PodStore& store, const std::string& uuid,
                const pod::TeardownOptions& options) {
  ASSIGN_OR_RETURN(pod::Pod pod, store.LockForRemoval(uuid));
  RETURN_IF_ERROR(pod::TeardownPod(pod.path(), uuid, options));
  RETURN_IF_ERROR(store.Remove(std::move(pod)));
  RecordEvent(DataDirOf(store.root()), pod::EventType::kPodGarbageCollected, uuid);
  return Ok();
}

// Moves a pod that may be removed to exited-garbage/ or garbage/; an error for the others.
Status MarkForRemoval(const pod::PodStore& store, const pod::PodEntry& entry) {
  using pod::PodState;
  if (entry.phase_dir == "exited-garbage" || entry.phase_dir == "garbage") {
    return Ok();
  }
  if (entry.state == PodState::kRunning) {
    return Err(Error(EBUSY, fmt::format("pod {} is running; stop it first", entry.uuid)));
  }
  if (entry.phase_dir == "run") {
    return store.MarkExited(entry.uuid);
  }
  if (entry.state == PodState::kPrepared || entry.state == PodState::kAbortedPrepare) {
    return store.MarkGarbage(entry.uuid);
  }
  return Err(Error(
      EBUSY, fmt::format("pod {} is {}; it cannot be removed", entry.uuid, PodStateWord(entry))));
}

Result<int> DoRemove(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, ResolvePods(store, in.pod));
  const pod::TeardownOptions options = TeardownOptionsFor(in.global);
  int exit_code = 0;
  for (const pod::PodEntry& entry : entries) {
    Status removed = MarkForRemoval(store, entry);
    if (removed) {
      removed = SweepPod(store, entry.uuid, options);
    }
    if (!removed) {
      Warn("rm", removed.error());
      exit_code = kExitError;
      continue;
    }
    RETURN_IF_ERROR(PrintOut(entry.uuid + "\n"));
  }
  return exit_code;
}

// gc's first pass: exited pods, crashed prepares and expired prepared pods become garbage.
Status GcMark(const pod::PodStore& store, const PodFlags& flags, int& failures) {
  ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, store.List());
  const auto now = Clock::now();
  for (const pod::PodEntry& entry : entries) {
    const bool exited = entry.phase_dir == "run" && entry.state == pod::PodState::kExited;
    const bool abandoned =
        (entry.phase_dir == "prepare" && entry.state == pod::PodState::kAbortedPrepare) ||
        (entry.phase_dir == "prepared" && now - entry.phase_since >= flags.expire_prepared);
    if (!exited && !abandoned) {
      continue;
    }
    Status marked = exited ? store.MarkExited(entry.uuid) : store.MarkGarbage(entry.uuid);
    if (!marked) {
      Warn("gc", marked.error().AddContext(entry.uuid));
      ++failures;
    } else {
      RETURN_IF_ERROR(PrintOut(fmt::format("marked pod {} as garbage\n", entry.uuid)));
    }
  }
  return Ok();
}

Result<int> DoGc(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  int failures = 0;
  RETURN_IF_ERROR(GcMark(store, in.pod, failures));
  if (!in.pod.mark_only) {
    const pod::TeardownOptions options = TeardownOptionsFor(in.global);
    ASSIGN_OR_RETURN(std::vector<pod::PodEntry> entries, store.List());
    const auto now = Clock::now();
    for (const pod::PodEntry& entry : entries) {
      if (!entry.gc_marked || now - entry.phase_since < in.pod.grace_period) {
        continue;
      }
      Status swept = SweepPod(store, entry.uuid, options);
      if (!swept) {
        if (swept.error().code() == EBUSY) {
          log::Debug("gc: {}: in use, skipped", entry.uuid);
          continue;
        }
        Warn("gc", swept.error().AddContext(entry.uuid));
        ++failures;
        continue;
      }
      RETURN_IF_ERROR(PrintOut(fmt::format("removed pod {}\n", entry.uuid)));
    }
  }
  return failures == 0 ? 0 : kExitError;
}

Result<int> DoCatManifest(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, ResolvePod(store, in.pod));
  auto text =
      os::ReadFileLimited(os::JoinPath(entry.path, pod::kManifestFile), pod::kMaxManifestBytes);
  if (!text && text.error().code() == ENOENT) {
    ASSIGN_OR_RETURN(entry, store.Refresh(entry.uuid));
    text =
        os::ReadFileLimited(os::JoinPath(entry.path, pod::kManifestFile), pod::kMaxManifestBytes);
  }
  if (!text) {
    return Err(std::move(text).error().AddContext(fmt::format("pod {}", entry.uuid)));
  }
  std::string out = std::move(*text);
  if (in.pod.pretty) {
    const nlohmann::json parsed = nlohmann::json::parse(out, nullptr, false);
    if (!parsed.is_discarded()) {
      out = parsed.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  if (out.empty() || out.back() != '\n') {
    out += '\n';
  }
  RETURN_IF_ERROR(PrintOut(out));
  return 0;
}

}  // namespace

Status StopAndRemovePod(const CometGlobalFlags& global, const std::string& uuid) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, store.Find(uuid));
  if (entry.state == pod::PodState::kRunning) {
    RETURN_IF_ERROR(StopPod(store, entry, PodFlags{}));
    ASSIGN_OR_RETURN(entry, store.Find(uuid));
  }
  RETURN_IF_ERROR(MarkForRemoval(store, entry));
  return SweepPod(store, uuid, TeardownOptionsFor(global));
}

bool IsPodCommand(const std::string& command) {
  static const std::set<std::string, std::less<>> kCommands = {
      "list",   "status",   "stop",       "rm",      "gc",        "cat-manifest",
      "logs",   "enter",    "exec",       "attach",  "app start", "app stop",
      "app rm", "app list", "app status", "app exec"};
  return kCommands.contains(command);
}

bool PodCommandNeedsUserNamespace(const std::string& command) {
  return command == "rm" || command == "gc";
}

Result<int> RunPodManagementCommand(const CometInvocation& in) {
  const std::string& c = in.command;
  if (c == "list") {
    return DoList(in);
  }
  if (c == "status") {
    return DoStatus(in);
  }
  if (c == "stop") {
    return DoStop(in);
  }
  if (c == "rm") {
    return DoRemove(in);
  }
  if (c == "gc") {
    return DoGc(in);
  }
  if (c == "cat-manifest") {
    return DoCatManifest(in);
  }
  if (c == "logs") {
    return RunPodLogs(in);
  }
  if (c == "enter" || c == "exec" || c == "app exec") {
    return RunPodExec(in);
  }
  if (c == "attach") {
    return RunPodAttach(in);
  }
  if (c == "app start" || c == "app stop" || c == "app rm" || c == "app list" ||
      c == "app status") {
    return RunAppCommand(in);
  }
  return Err(Error::Invalid(fmt::format("unknown command {:?}", c)));
}

}  // namespace comet::cli
