// Supervisor: the PodController operations the control socket asks for (app add/start/stop/rm,
// exec, pod stop lives in supervisor.cc).
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/snapshot.h"
#include "os/file.h"
#include "supervisor/supervisor.h"

namespace comet::supervisor {

Result<Supervisor::AppRecord*> Supervisor::FindRunnableApp(const std::string& name) {
  AppRecord* record = FindApp(name);
  if (record == nullptr) {
    return Err(Error::NotFound(fmt::format("app \"{}\": no such app in the pod", name)));
  }
  if (phase_ == Phase::kStopping || phase_ == Phase::kDone) {
    return Err(Error(ECANCELED, "the pod is stopping"));
  }
  return record;
}

Status Supervisor::AddApp(pod::App app) {
  if (!manifest_.mutable_pod) {
    return Err(Error::Invalid("apps can be added to mutable pods only (comet app sandbox)"));
  }
  if (phase_ == Phase::kStopping || phase_ == Phase::kDone) {
    return Err(Error(ECANCELED, "the pod is stopping"));
  }
  pod::PodManifest updated = manifest_;
  updated.apps.push_back(app);
  RETURN_IF_ERROR(pod::ValidateManifest(updated));
  auto record = std::make_unique<AppRecord>();
  record->app = std::move(app);
  record->backoff = pod::Backoff(backoff_policy_);
  record->status.name = record->app.name;
  record->status.created = FormatRfc3339Nano(std::chrono::system_clock::now());
  if (auto prepared = PrepareApp(*record); !prepared) {
    if (record->prepared) {
      (void)image::RemoveSnapshot(pod::AppSnapshotDir(options_.pod_dir, record->app.name));
    }
    return prepared;
  }
  RETURN_IF_ERROR(pod::WriteManifest(options_.pod_dir, updated));
  manifest_ = std::move(updated);
  apps_.push_back(std::move(record));
  return Ok();
}

Status Supervisor::StartApp(const std::string& name) {
  ASSIGN_OR_RETURN(AppRecord * record, FindRunnableApp(name));
  if (record->pid > 0) {
    return Ok();
  }
  if (record->app.init) {
    return Err(Error::Invalid(fmt::format("app \"{}\" is an init container", name)));
  }
  if (phase_ == Phase::kInitContainers) {
    // Apps start only once every init container has succeeded (ContinueStart starts them).
    return Err(
        Error(EBUSY, fmt::format("app \"{}\": the pod's init containers are still running", name)));
  }
  if (record->restart_timer != 0) {
    loop_.CancelTimer(record->restart_timer);
    record->restart_timer = 0;
  }
  record->stop_requested = false;
  record->backoff.Reset();
  if (record->status.exit_code >= 0) {
    record->status.restarts++;
  }
  auto launched = LaunchApp(*record);
  if (!launched) {
    record->status.state = pod::AppState::kExited;
    record->status.reason = "StartError";
    record->status.message = launched.error().ToString();
    SaveStatus(*record);
  }
  return launched;
}

Status Supervisor::StopApp(const std::string& name, std::chrono::milliseconds grace,
                           std::function<void()> done) {
  AppRecord* record = FindApp(name);
  if (record == nullptr) {
    return Err(Error::NotFound(fmt::format("app \"{}\": no such app in the pod", name)));
  }
  record->stop_requested = true;
  CancelPendingRestart(*record);
  if (record->pid == 0) {
    if (done) {
      done();
    }
    MaybeEnd();
    return Ok();
  }
  if (done) {
    record->on_stopped.push_back(std::move(done));
  }
  ::kill(record->pid, SIGTERM);
  if (grace.count() < 0) {
    grace = DefaultGrace();
  }
  if (record->kill_timer != 0) {
    loop_.CancelTimer(record->kill_timer);
  }
  record->kill_timer = loop_.AddTimer(grace, [this, name] {
    if (AppRecord* app = FindApp(name); app != nullptr) {
      app->kill_timer = 0;
      if (app->pid > 0) {
        ::kill(app->pid, SIGKILL);
      }
    }
  });
  return Ok();
}

Status Supervisor::RemoveApp(const std::string& name) {
  if (!manifest_.mutable_pod) {
    return Err(Error::Invalid("apps can be removed from mutable pods only (comet app sandbox)"));
  }
  AppRecord* record = FindApp(name);
  if (record == nullptr) {
    return Err(Error::NotFound(fmt::format("app \"{}\": no such app in the pod", name)));
  }
  if (record->pid > 0) {
    return Err(Error(EBUSY, fmt::format("app \"{}\" is running: stop it first", name)));
  }
  if (record->restart_timer != 0) {
    loop_.CancelTimer(record->restart_timer);
    record->restart_timer = 0;
  }
  pod::PodManifest updated = manifest_;
  updated.apps.erase(std::remove_if(updated.apps.begin(), updated.apps.end(),
                                    [&](const pod::App& app) { return app.name == name; }),
                     updated.apps.end());
  RETURN_IF_ERROR(pod::WriteManifest(options_.pod_dir, updated));
  manifest_ = std::move(updated);
  DeleteContainer(*record);
  io_.Removed(name);
  if (auto st = image::RemoveSnapshot(pod::AppSnapshotDir(options_.pod_dir, name)); !st) {
    log::Warning("removing the snapshot of {}: {}", name, st.error().ToString());
  }
  record->status.state = pod::AppState::kRemoved;
  SaveStatus(*record);
  apps_.erase(std::remove_if(apps_.begin(), apps_.end(),
                             [&](const auto& app) { return app.get() == record; }),
              apps_.end());
  MaybeEnd();
  return Ok();
}

Result<pid_t> Supervisor::Exec(const std::string& app, const pod::ExecRequest& request,
                               const ExecStdio& stdio, std::function<void(int exit_code)> on_exit) {
  ASSIGN_OR_RETURN(AppRecord * record, FindRunnableApp(app));
  if (record->pid == 0) {
    return Err(Error(ESRCH, fmt::format("app \"{}\" is not running", app)));
  }
  if (request.args.empty()) {
    return Err(Error::Invalid("exec: no command given"));
  }
  runtime::ExecOptions options;
  options.id = app;
  options.args = request.args;
  options.env = request.env;
  options.cwd = request.cwd;
  if (!request.user.empty()) {
    std::vector<std::string> parts = Split(request.user, ':');
    if (parts.size() > 2 || parts[0].empty()) {
      return Err(Error::Invalid("exec: user \"" + request.user + "\": expected user[:group]"));
    }
    std::string rootfs = image::SnapshotRootfs(pod::AppSnapshotDir(options_.pod_dir, app));
    ASSIGN_OR_RETURN(ResolvedUser user,
                     ResolveUser(rootfs, parts[0], parts.size() == 2 ? parts[1] : "", {}));
    options.user = fmt::format("{}:{}", user.uid, user.gid);
    options.additional_gids = user.additional_gids;
  }
  options.tty = !stdio.console_socket.empty();
  options.console_socket = stdio.console_socket;
  options.stdio = {stdio.in, stdio.out, stdio.err};
  options.detach = true;
  ASSIGN_OR_RETURN(pid_t pid, runtime::ExecDetached(runtime_, options));
  // Not reaped yet whatever happened meanwhile: SIGCHLD is read by the loop after we return.
  execs_[pid] = std::move(on_exit);
  return pid;
}

}  // namespace comet::supervisor
