// Supervisor: one app's life — its snapshot and OCI spec, each run through the runtime
// library, its exits, restarts with back-off, and the order in which the pod's apps start.
#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "image/snapshot.h"
#include "os/file.h"
#include "supervisor/app_spec.h"
#include "supervisor/etc_stub_layer.h"
#include "supervisor/sub_paths.h"
#include "supervisor/supervisor.h"

namespace comet::supervisor {
namespace {

std::string Now() {
  return FormatRfc3339Nano(std::chrono::system_clock::now());
}

// Whether the kernel's OOM killer killed a process of the app's cgroup (read before the
// container, and with it the cgroup, is deleted): "oom_kill N" in memory.oom_control (v1) or
// memory.events (v2).
bool WasOomKilled(const std::string& cgroup) {
  for (const std::string& path : {"/sys/fs/cgroup/memory" + cgroup + "/memory.oom_control",
                                  "/sys/fs/cgroup" + cgroup + "/memory.events"}) {
    auto text = os::ReadFileLimited(path, 4096);
    if (!text) {
      continue;
    }
    for (const std::string& line : Split(*text, '\n')) {
      if (StartsWith(line, "oom_kill ")) {
        auto count = ParseUint(TrimSpace(std::string_view(line).substr(9)));
        return count && *count > 0;
      }
    }
  }
  return false;
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsRealDirectory(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The [start, end) of the main thread's stack mapping, from /proc/self/maps; {0, 0} if unknown.
std::pair<uintptr_t, uintptr_t> StackMapping() {
  auto maps = os::ReadFileLimited("/proc/self/maps", 1 << 20);
  if (!maps) {
    return {0, 0};
  }
  for (const std::string& line : Split(*maps, '\n')) {
    if (!line.ends_with("[stack]")) {
      continue;
    }
    uintptr_t start = 0;
    uintptr_t end = 0;
    const char* text = line.data();
    const char* text_end = text + line.size();
    auto [dash, e1] = std::from_chars(text, text_end, start, 16);
    if (e1 != std::errc() || dash == text_end || *dash != '-' ||
        std::from_chars(dash + 1, text_end, end, 16).ec != std::errc()) {
      return {0, 0};
    }
    return {start, end};
  }
  return {0, 0};
}

// Gives back what an idle supervisor no longer needs once apps are started: the heap's free
// pages, and the stack pages below the caller's frame. The setup (JSON documents, 16 KiB read
// buffers) drives the stack ≈ 40 KiB deep while the idle event loop needs a few KiB, and the
// kernel never takes touched stack pages back by itself. Whatever lies below the stack pointer
// is dead by definition; 16 KiB of margin keep the frames of the calls made from here.
// Never inlined: "below our own frame" must mean below this function's frame, whatever the
// size of the caller's; the margin covers the frames of what it calls (madvise).
[[gnu::noinline]] void ReleaseIdleMemory() {
  const auto [start, end] = StackMapping();
  ::malloc_trim(0);
  constexpr uintptr_t kPage = 4096;
  constexpr uintptr_t kMargin = 4 * kPage;
  volatile char here = 0;  // an address in this frame
  const auto sp = reinterpret_cast<uintptr_t>(&here);
  if (start == 0 || sp < start + kMargin + kPage || sp >= end) {
    return;
  }
  const uintptr_t below = (sp & ~(kPage - 1)) - kMargin;
  // NOLINTNEXTLINE(performance-no-int-to-ptr): the page range below our own frame
  (void)::madvise(reinterpret_cast<void*>(start), below - start, MADV_DONTNEED);
}

}  // namespace

Status CheckStoreLayer(const std::string& data_dir, const std::string& layer) {
  const std::string layers_dir = os::JoinPath(data_dir, "images/layers");
  auto invalid = [&] {
    return Err(Error::Invalid(
        fmt::format("layer {} is not an unpacked layer of the image store ({}/<algorithm>/<hex>)",
                    layer, layers_dir)));
  };
  if (!layer.starts_with(layers_dir + "/")) {
    return invalid();
  }
  std::string_view rest = std::string_view(layer).substr(layers_dir.size() + 1);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return invalid();
  }
  std::string_view algorithm = rest.substr(0, slash);
  std::string_view hex = rest.substr(slash + 1);
  size_t hex_size = algorithm == "sha256" ? 64 : algorithm == "sha512" ? 128 : 0;
  if (hex_size == 0 || hex.size() != hex_size || !IsLowerHex(hex)) {
    return invalid();
  }
  // Both components are ours to check: neither may be a symlink planted to lead elsewhere.
  if (!IsRealDirectory(os::JoinPath(layers_dir, std::string(algorithm))) ||
      !IsRealDirectory(layer)) {
    return invalid();
  }
  return Ok();
}

Supervisor::AppRecord* Supervisor::FindApp(const std::string& name) {
  for (auto& record : apps_) {
    if (record->app.name == name) {
      return record.get();
    }
  }
  return nullptr;
}

void Supervisor::SaveStatus(const AppRecord& record) const {
  if (auto st = pod::WriteAppStatus(options_.pod_dir, record.status); !st) {
    log::Warning("writing the status of {}: {}", record.app.name, st.error().ToString());
  }
}

// The layer trees stage0 recorded, each checked to be a directory of the store's layers/ (a
// manifest names host paths, and only a tree of the store may become an app's root).
Result<std::vector<std::string>> Supervisor::AppLayers(const pod::App& app) const {
  if (app.layers.empty()) {
    return Err(Error::Invalid("app " + app.name + ": the pod manifest lists no image layers"));
  }
  for (const std::string& layer : app.layers) {
    RETURN_IF_ERROR_CTX(CheckStoreLayer(options_.data_dir, layer), "app " + app.name);
  }
  return app.layers;
}

Status Supervisor::PrepareApp(AppRecord& record) {
  const pod::App& app = record.app;
  // Stage0 unpacked the layers and holds the pod's lease on them, so gc cannot take them.
  ASSIGN_OR_RETURN(std::vector<std::string> layers, AppLayers(app));
  RETURN_IF_ERROR(pod::MakeAppDirs(options_.pod_dir, app.name));
  std::string dir = pod::AppSnapshotDir(options_.pod_dir, app.name);
  if (image::SnapshotKindOf(dir)) {
    RETURN_IF_ERROR(image::RemoveSnapshot(dir));  // left by an earlier app of that name
  }
  image::SnapshotOptions snapshot;
  snapshot.rootless = manifest_.rootless;
  auto no_overlay = manifest_.annotations.find(pod::kNoOverlayAnnotation);
  snapshot.force_copy = no_overlay != manifest_.annotations.end() && no_overlay->second == "true";
  snapshot.ephemeral = options_.remove;
  // Rootful overlays get the /etc stub layer: the app's /etc files are mount points without a
  // copy-up. (Rootless ones copy up as before: the stubs would be this user's files, which a
  // user namespace without a mapping for them shows as nobody's.)
  if (!snapshot.rootless && !snapshot.force_copy) {
    snapshot.spare_dir = SpareSnapshotsDir();
    if (auto stubs = EnsureEtcStubLayer(etc_stubs_dir_, resolv_conf_)) {
      snapshot.base_layer = *stubs;
    } else {
      log::Debug("no /etc stub layer (the files are made in the app's root): {}",
                 stubs.error().ToString());
    }
  }
  ASSIGN_OR_RETURN(image::SnapshotKind kind, image::CreateSnapshot(layers, dir, snapshot));
  log::Debug("app {}: {} snapshot", app.name,
             kind == image::SnapshotKind::kOverlay ? "overlay" : "copy");
  record.prepared = true;
  ASSIGN_OR_RETURN(record.user, ResolveUser(image::SnapshotRootfs(dir), app.user, app.group,
                                            app.supplementary_gids));
  // Kubernetes' runAsNonRoot, checked as the kubelet does: once the user is known.
  if (auto non_root = app.annotations.find(pod::kRunAsNonRootAnnotation);
      non_root != app.annotations.end() && non_root->second == "true" && record.user.uid == 0) {
    return Err(Error(EPERM, fmt::format("app {}: runAsNonRoot is set and the app would run as "
                                        "root (user {:?}); set runAsUser",
                                        app.name, app.user)));
  }
  RETURN_IF_ERROR(BuildAppConfig(record));
  record.status.state = pod::AppState::kCreated;
  SaveStatus(record);
  return Ok();
}

// Spare snapshot skeletons (image::RecycleSnapshot), beside the pods in the data directory.
std::string Supervisor::SpareSnapshotsDir() const {
  return os::JoinPath(options_.data_dir, "spares");
}

// A pod that goes at its end hands its apps' snapshots to the next pods as spares, rootful
// overlays only (a rootless upper holds subordinate ids' files). What cannot be recycled stays
// for the teardown to remove.
void Supervisor::RecycleSnapshots() {
  if (manifest_.rootless) {
    return;
  }
  for (const auto& record : apps_) {
    if (!record->prepared || record->pid > 0) {
      continue;
    }
    const std::string dir = pod::AppSnapshotDir(options_.pod_dir, record->app.name);
    if (auto st = image::RecycleSnapshot(dir, SpareSnapshotsDir(),
                                         manifest_.uuid + "." + record->app.name);
        !st) {
      log::Debug("snapshot of {} not kept as a spare: {}", record->app.name, st.error().ToString());
    }
  }
}

// The runtime keeps its own copy of the config (its state's config.json, which `exec`, a
// teardown after a crash and comet-runtime read), so none is written into the bundle.
Status Supervisor::BuildAppConfig(AppRecord& record) {
  AppSpecInput input;
  input.manifest = &manifest_;
  input.app = &record.app;
  input.pod_dir = options_.pod_dir;
  input.supervisor_pid = ::getpid();
  input.pid_namespace_holder = pause_pid_;
  input.user = record.user;
  input.resolv_conf = resolv_conf_;
  ASSIGN_OR_RETURN(input.sub_path_sources, StageSubPaths(options_.pod_dir, manifest_, record.app));
  ASSIGN_OR_RETURN(record.spec, BuildAppSpec(input));
  return Ok();
}

void Supervisor::DeleteContainer(AppRecord& record) {
  if (!record.container) {
    return;
  }
  if (auto st = runtime::Delete(runtime_, record.app.name, /*force=*/true, &record.hooks); !st) {
    log::Warning("deleting the container of {}: {}", record.app.name, st.error().ToString());
  }
  record.container = false;
}

Status Supervisor::LaunchApp(AppRecord& record) {
  const std::string& name = record.app.name;
  DeleteContainer(record);
  if (!record.spec) {
    RETURN_IF_ERROR(BuildAppConfig(record));
  }
  ASSIGN_OR_RETURN(LaunchStdio stdio, io_.Prepare(record.app));
  runtime::CreateOptions create;
  create.id = name;
  create.bundle = pod::AppDir(options_.pod_dir, name);
  create.console_socket = stdio.console_socket;
  create.stdio = {stdio.in, stdio.out, stdio.err};
  create.spec = &*record.spec;
  auto created = runtime::Create(runtime_, create);
  if (!created) {
    io_.LaunchFailed(name);
    return Err(std::move(created).error());
  }
  record.container = true;
  record.hooks = record.spec->hooks.value_or(oci::Hooks{});
  CrashAt("create");
  const pid_t pid = *created;
  if (auto launched = io_.Launched(name); !launched) {
    DeleteContainer(record);
    return launched;
  }
  if (auto started = runtime::Start(runtime_, name, &record.hooks); !started) {
    // Init is our child: make sure it is gone before the container's state goes.
    ::kill(pid, SIGKILL);
    (void)::waitpid(pid, nullptr, 0);
    io_.Exited(name, 128 + SIGKILL);
    DeleteContainer(record);
    return started;
  }
  record.spec.reset();
  record.pid = pid;
  record.started_at = Clock::now();
  pod::AppStatus& status = record.status;
  status.state = pod::AppState::kRunning;
  status.pid = pid;
  status.started = Now();
  status.finished.clear();
  status.next_start.clear();
  status.reason.clear();
  status.message.clear();
  status.attempts.push_back({status.started, "", -1});
  if (status.attempts.size() > pod::kMaxAttempts) {
    status.attempts.erase(status.attempts.begin());
  }
  SaveStatus(record);
  log::Debug("app {} started, pid {}", name, pid);
  return Ok();
}

// Starts an app that the pod's start sequence needs; before the pod is ready a failure fails
// the pod, afterwards (restarts) it counts as a failed run.
void Supervisor::StartOrFail(AppRecord& record) {
  auto st = LaunchApp(record);
  if (st) {
    RecordAppEvent(pod::EventType::kAppStarted, record);
    return;
  }
  Error error = std::move(st).error().AddContext("starting app " + record.app.name);
  record.status.state = pod::AppState::kExited;
  record.status.reason = "StartError";
  record.status.message = error.ToString();
  if (status_.ready && phase_ == Phase::kRunning && pod::ShouldRestart(record.app.restart, 1) &&
      !record.stop_requested) {
    log::Warning("{}", error.ToString());
    record.started_at = Clock::now();  // it did not run: no reason to reset the back-off
    ScheduleRestart(record);
    return;
  }
  SaveStatus(record);
  if (!status_.ready) {
    FailStart(error, std::nullopt);
  } else {
    log::Warning("{}", error.ToString());
    MaybeEnd();
  }
}

// The start sequence: the next init container that has not succeeded yet, or, once all did,
// every app in manifest order; then the pod is ready.
void Supervisor::ContinueStart() {
  if (phase_ != Phase::kInitContainers) {
    return;
  }
  for (auto& record : apps_) {
    if (!record->app.init || record->status.reason == "Completed") {
      continue;
    }
    if (record->pid == 0 && record->restart_timer == 0) {
      StartOrFail(*record);
    }
    return;  // one init container at a time
  }
  phase_ = Phase::kRunning;
  for (auto& record : apps_) {
    if (record->app.init) {
      continue;
    }
    StartOrFail(*record);
    if (phase_ != Phase::kRunning) {
      return;  // the pod failed
    }
  }
  MarkReady();
  ScheduleIdleTrim();
  MaybeEnd();
}

// The trim waits until the pod has idled a moment: a pod that ends right away (`run --rm` of a
// short command) would pay for it and for faulting the trimmed pages back in during teardown.
void Supervisor::ScheduleIdleTrim() {
  if (idle_trim_timer_ != 0) {
    loop_.CancelTimer(idle_trim_timer_);
  }
  idle_trim_timer_ = loop_.AddTimer(kIdleTrimDelay, [this] {
    idle_trim_timer_ = 0;
    ReleaseIdleMemory();
  });
}

void Supervisor::OnAppExit(AppRecord& record, int exit_code, bool signaled) {
  const std::string name = record.app.name;
  log::Debug("app {} exited with {}", name, exit_code);
  record.pid = 0;
  if (record.kill_timer != 0) {
    loop_.CancelTimer(record.kill_timer);
    record.kill_timer = 0;
  }
  io_.Exited(name, exit_code);
  bool oom = signaled && exit_code == 128 + SIGKILL && record.app.resources.memory_bytes > 0 &&
             WasOomKilled(pod::AppCgroupPath(manifest_.uuid, name));
  DeleteContainer(record);
  pod::AppStatus& status = record.status;
  status.pid = 0;
  status.exit_code = exit_code;
  status.finished = Now();
  if (!status.attempts.empty()) {
    status.attempts.back().finished = status.finished;
    status.attempts.back().exit_code = exit_code;
  }
  status.reason = exit_code == 0 ? "Completed"
                                 : (oom        ? "OOMKilled"
                                    : signaled ? "Signaled"
                                               : "Error");
  status.state = pod::AppState::kExited;
  RecordAppEvent(pod::EventType::kAppExited, record);

  bool stopping = phase_ == Phase::kStopping || phase_ == Phase::kDone || record.stop_requested;
  if (!stopping && pod::ShouldRestart(record.app.restart, exit_code) &&
      !(record.app.init && exit_code == 0)) {
    ScheduleRestart(record);
  } else {
    SaveStatus(record);
  }
  // The stop callbacks run last: one may remove the app (and `record` with it).
  std::vector<std::function<void()>> callbacks = std::move(record.on_stopped);
  record.on_stopped.clear();
  if (record.app.init && phase_ == Phase::kInitContainers && record.restart_timer == 0) {
    if (exit_code == 0) {
      ContinueStart();
    } else {
      FailStart(Error(ECANCELED,
                      fmt::format("init container {} failed with exit code {}", name, exit_code)),
                exit_code);
    }
  } else {
    MaybeEnd();
  }
  for (auto& callback : callbacks) {
    callback();
  }
}

void Supervisor::ScheduleRestart(AppRecord& record) {
  auto ran_for =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - record.started_at);
  std::chrono::milliseconds delay = record.backoff.Next(ran_for);
  pod::AppStatus& status = record.status;
  status.state = pod::AppState::kBackOff;
  status.next_start = FormatRfc3339Nano(std::chrono::system_clock::now() + delay);
  if (status.reason == "StartError") {
    status.message += "; restarting";
  } else {
    status.message = fmt::format("back-off {} ms restarting the app", delay.count());
  }
  SaveStatus(record);
  std::string name = record.app.name;
  record.restart_timer = loop_.AddTimer(delay, [this, name] { RestartDue(name); });
}

void Supervisor::CancelPendingRestart(AppRecord& record) {
  if (record.restart_timer == 0) {
    return;
  }
  loop_.CancelTimer(record.restart_timer);
  record.restart_timer = 0;
  record.status.state = pod::AppState::kExited;
  record.status.next_start.clear();
  SaveStatus(record);
}

void Supervisor::RestartDue(const std::string& name) {
  AppRecord* record = FindApp(name);
  if (record == nullptr) {
    return;
  }
  record->restart_timer = 0;
  if (phase_ == Phase::kStopping || phase_ == Phase::kDone || record->stop_requested) {
    return;
  }
  record->status.restarts++;
  StartOrFail(*record);
  ScheduleIdleTrim();  // the app may now run for long: its launch's memory is not needed
}

}  // namespace comet::supervisor
