// enter/exec/attach and the app subcommands, through pod/control.h.
#include "cli/pod_exec.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/pod_access.h"
#include "cli/pod_format.h"
#include "pod/control.h"
#include "pod/pod_dir.h"

namespace comet::cli {
namespace {

using std::chrono::milliseconds;

struct RunningPod {
  pod::PodEntry entry;
  pod::PodManifest manifest;
  std::string app;  // chosen from --app or the pod's only app
};

// Names the app in an error unless the supervisor's message already does.
Error WithApp(Error error, const std::string& app) {
  if (error.ToString().find(fmt::format("{:?}", app)) == std::string::npos) {
    error.AddContext(fmt::format("app {:?}", app));
  }
  return error;
}

Result<RunningPod> FindRunningApp(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  RunningPod pod;
  ASSIGN_OR_RETURN(pod.entry, ResolvePod(store, in.pod));
  RETURN_IF_ERROR(CheckRunning(pod.entry));
  ASSIGN_OR_RETURN(pod.manifest, ReadPodManifest(store, pod.entry));
  ASSIGN_OR_RETURN(pod.app, ChooseApp(pod.manifest, in.pod.app));
  return pod;
}

Result<int> AppStartStopRemove(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, ResolvePod(store, in.pod));
  RETURN_IF_ERROR(CheckRunning(entry));
  pod::ControlRequest request;
  request.app = in.pod.app;
  milliseconds reply_timeout = pod::kDefaultReplyTimeout;
  if (in.command == "app start") {
    request.op = pod::ControlOp::kAppStart;
  } else if (in.command == "app stop") {
    request.op = pod::ControlOp::kAppStop;
    if (in.pod.force) {
      request.grace = milliseconds(0);
    } else if (in.pod.timeout) {
      request.grace = std::chrono::duration_cast<milliseconds>(*in.pod.timeout);
    }
    // The reply comes once the app exited: after up to its grace period.
    milliseconds grace = request.grace;
    if (grace.count() < 0) {
      auto manifest = ReadPodManifest(store, entry);
      grace = std::chrono::seconds(manifest ? manifest->stop_grace_seconds : 10);
    }
    reply_timeout += grace;
  } else {
    request.op = pod::ControlOp::kAppRemove;
  }
  auto reply = pod::CallControl(entry.path, request, reply_timeout);
  if (!reply) {
    return Err(WithApp(std::move(reply).error(), in.pod.app));
  }
  return 0;
}

Result<int> AppListOrStatus(const CometInvocation& in) {
  ASSIGN_OR_RETURN(pod::PodStore store, OpenPodStore(in.global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, ResolvePod(store, in.pod));
  ASSIGN_OR_RETURN(pod::PodManifest manifest, ReadPodManifest(store, entry));
  const bool pretty = in.pod.format == "json-pretty";
  if (in.command == "app list") {
    std::vector<PodAppView> apps;
    for (const pod::App& app : manifest.apps) {
      apps.push_back(ReadAppView(entry.path, app));
    }
    RETURN_IF_ERROR(
        PrintOut(in.pod.format == "table"
                     ? FormatAppTable(apps, {.full = false, .no_legend = in.pod.no_legend})
                     : FormatAppListJson(apps, pretty)));
    return 0;
  }
  ASSIGN_OR_RETURN(std::string name, ChooseApp(manifest, in.pod.app));
  for (const pod::App& app : manifest.apps) {
    if (app.name == name) {
      PodAppView view = ReadAppView(entry.path, app);
      RETURN_IF_ERROR(PrintOut(in.pod.format == "table" ? FormatAppStatus(view)
                                                        : FormatAppStatusJson(view, pretty)));
    }
  }
  return 0;
}

}  // namespace

Result<int> RunPodExec(const CometInvocation& in) {
  ASSIGN_OR_RETURN(RunningPod pod, FindRunningApp(in));
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  pod::ExecRequest request;
  request.args = in.pod.command;
  if (in.command == "enter") {
    // rkt's enter: a shell by default, interactive, on a pty when this is a terminal.
    if (request.args.empty()) {
      request.args = {"/bin/sh"};
    }
    request.interactive = true;
    request.tty = in.pod.tty.value_or(terminal);
  } else {
    request.interactive = in.pod.interactive;
    request.tty = in.pod.tty.value_or(false);
  }
  request.env = in.pod.env;
  request.cwd = in.pod.workdir;
  request.user = in.pod.user;
  if (request.tty && terminal) {
    winsize size{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) {
      request.rows = size.ws_row;
      request.cols = size.ws_col;
    }
  }
  auto code = pod::ExecInApp(pod.entry.path, pod.app, request, pod::StreamOptions{});
  if (!code) {
    return Err(WithApp(std::move(code).error(), pod.app));
  }
  return *code;
}

Result<int> RunPodAttach(const CometInvocation& in) {
  RETURN_IF_ERROR_CTX(pod::ParseDetachKeys(in.pod.detach_keys), "--detach-keys");
  ASSIGN_OR_RETURN(RunningPod pod, FindRunningApp(in));
  pod::StreamOptions options;
  options.detach_keys = in.pod.detach_keys;
  auto code = pod::AttachToApp(pod.entry.path, pod.app, !in.pod.no_stdin, options);
  if (!code) {
    return Err(WithApp(std::move(code).error(), pod.app));
  }
  return code->value_or(0);
}

Result<int> RunAppCommand(const CometInvocation& in) {
  if (in.command == "app list" || in.command == "app status") {
    return AppListOrStatus(in);
  }
  return AppStartStopRemove(in);
}

}  // namespace comet::cli
