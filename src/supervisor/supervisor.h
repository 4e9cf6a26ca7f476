// The supervisor's core (stage1): sets the pod up on this process (namespaces, volumes, /etc
// files), makes each app's snapshot and OCI spec, runs the apps through the runtime library
// (init containers first, then the apps, restarted per policy with back-off), reaps every child,
// records statuses, and stops the pod in order. Implements PodController for the control server.
// Single-threaded: everything runs from the event loop.
#ifndef COMET_SUPERVISOR_SUPERVISOR_H_
#define COMET_SUPERVISOR_SUPERVISOR_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "network/attachment.h"
#include "os/unique_fd.h"
#include "pod/event_log.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/restart_backoff.h"
#include "runtime/runtime.h"
#include "supervisor/app_io.h"
#include "supervisor/event_loop.h"
#include "supervisor/pod_controller.h"
#include "supervisor/pod_net.h"
#include "supervisor/rootless_net.h"
#include "supervisor/user_lookup.h"

namespace comet::supervisor {

struct SupervisorOptions {
  std::string pod_dir;   // absolute; the current directory already
  std::string data_dir;  // absolute: <data>/images is the image store
  bool remove = false;   // --rm: tear the pod down and remove its directory at the end
  int ready_fd = -1;     // --ready-fd (owned: written once, then closed); -1: none
  // Detached: the log's fd, a pipe that `comet run -d` relays to its caller's terminal until the
  // ready line; then pointed at /dev/null (dup2, so the log keeps its fd). -1: none.
  int startup_log_fd = -1;
};

// The exit code of the supervisor's own failure (rkt's).
inline constexpr int kSupervisorFailure = 254;
// How long a started pod idles before the supervisor gives its setup memory back.
inline constexpr std::chrono::milliseconds kIdleTrimDelay{500};

// COMET_TEST_CRASH_AT test hook: SIGKILLs this process when `step` is the named one.
void CrashAt(const char* step);

// Checks that `layer` (a host path from the pod manifest or `app add`) is exactly an unpacked
// layer tree of the image store: <data_dir>/images/layers/<sha256|sha512>/<hex>, a real
// directory (lstat: not a symlink) — only such a tree may become an app's root.
[[nodiscard]] Status CheckStoreLayer(const std::string& data_dir, const std::string& layer);

class Supervisor : public PodController {
 public:
  // Signals SIGCHLD, SIGTERM, SIGINT and SIGHUP must be blocked already (main does it first, so
  // none is lost or fatal during setup).
  Supervisor(EventLoop& loop, AppIo& io, SupervisorOptions options);
  ~Supervisor() override;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  Supervisor(Supervisor&&) = delete;
  Supervisor& operator=(Supervisor&&) = delete;

  // Sets up the pod and starts its first apps; the rest happens in the event loop, which the
  // supervisor stops once the pod has ended. On failure what was made is gone and the ready fd
  // got the error: the caller skips the loop and calls Finish (which returns kSupervisorFailure).
  [[nodiscard]] Status Start();
  // After the loop returned: final statuses, --rm teardown. Returns the pod's exit code.
  int Finish();

  // PodController.
  [[nodiscard]] Status AddApp(pod::App app) override;
  [[nodiscard]] Status StartApp(const std::string& name) override;
  [[nodiscard]] Status StopApp(const std::string& name, std::chrono::milliseconds grace,
                               std::function<void()> done) override;
  [[nodiscard]] Status RemoveApp(const std::string& name) override;
  void StopPod(std::chrono::milliseconds grace) override;
  [[nodiscard]] Result<pid_t> Exec(const std::string& app, const pod::ExecRequest& request,
                                   const ExecStdio& stdio,
                                   std::function<void(int exit_code)> on_exit) override;

  [[nodiscard]] const pod::PodManifest& manifest() const { return manifest_; }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Phase { kSetup, kInitContainers, kRunning, kStopping, kDone };

  struct AppRecord {
    pod::App app;
    pod::AppStatus status;
    pod::Backoff backoff;
    ResolvedUser user;
    // Its OCI config, handed to the runtime in memory (no config.json to write and read
    // back): built by PrepareApp, dropped once the app started (an idle supervisor keeps no
    // spec) and built again for a restart.
    std::optional<oci::Spec> spec;
    oci::Hooks hooks;        // those of the spec of its container, for runtime::Start and Delete
    bool prepared = false;   // snapshot made, spec built
    bool container = false;  // a runtime container exists for it
    bool stop_requested = false;
    pid_t pid = 0;
    Clock::time_point started_at;
    EventLoop::TimerId restart_timer = 0;
    EventLoop::TimerId kill_timer = 0;
    std::vector<std::function<void()>> on_stopped;
  };

  // Setup (supervisor.cc).
  Status SetUp();
  Result<std::vector<network::NetworkAttachment>> PrepareNetworks();
  Result<os::UniqueFd> SetUpRootlessNetwork();
  Status WatchSignals();
  void OnSignals();
  void Reap();
  Status StartPauseProcess();
  void WriteSupervisorStatus();
  void SayReady(std::string_view line);
  // The durable event log (supervisor_events.cc); failures are warnings.
  void RecordEvent(pod::EventType type, std::vector<std::pair<std::string, std::string>> data = {});
  void RecordAppEvent(pod::EventType type, const AppRecord& record);
  void MarkReady();
  // Gives the setup's memory back (heap and stack) once the pod has idled kIdleTrimDelay, since
  // it may now idle for months and every supervisor's private memory counts.
  void ScheduleIdleTrim();
  void FailStart(const Error& error, std::optional<int> exit_code);
  void CleanUpAfterFailure();
  void MaybeEnd();
  void KillApps(int signal);
  void RemoveEmptyPodCgroups() const;
  bool EndNetworks();
  void RemovePod();
  [[nodiscard]] Status RemovePodDir() const;

  // Apps (supervisor_apps.cc).
  Result<std::vector<std::string>> AppLayers(const pod::App& app) const;
  Status PrepareApp(AppRecord& record);
  Status BuildAppConfig(AppRecord& record);
  std::string SpareSnapshotsDir() const;
  void RecycleSnapshots();
  Status LaunchApp(AppRecord& record);
  void StartOrFail(AppRecord& record);
  void ContinueStart();
  void OnAppExit(AppRecord& record, int exit_code, bool signaled);
  void ScheduleRestart(AppRecord& record);
  void RestartDue(const std::string& name);
  // Cancels a pending restart (an app waiting out its backoff), which leaves the app exited.
  void CancelPendingRestart(AppRecord& record);
  void DeleteContainer(AppRecord& record);
  void SaveStatus(const AppRecord& record) const;
  AppRecord* FindApp(const std::string& name);
  Result<AppRecord*> FindRunnableApp(const std::string& name);
  std::chrono::milliseconds DefaultGrace() const;

  EventLoop& loop_;
  AppIo& io_;
  SupervisorOptions options_;
  pod::PodManifest manifest_;
  runtime::GlobalOptions runtime_;
  std::string etc_stubs_dir_;  // <data dir>/stubs: the /etc stub layers
  pod::BackoffPolicy backoff_policy_;
  std::vector<std::unique_ptr<AppRecord>> apps_;  // manifest order
  std::map<pid_t, std::function<void(int)>> execs_;
  os::UniqueFd signal_fd_;
  pid_t pause_pid_ = 0;
  bool resolv_conf_ = false;
  Phase phase_ = Phase::kSetup;
  pod::SupervisorStatus status_;
  std::optional<int> init_failure_code_;  // an init container that failed for good
  bool failed_ = false;                   // the supervisor's own failure: exit 254
  bool pod_started_recorded_ = false;     // pod-started is in the event log
  // The "error: ..." line for the ready fd after a failed start, written by Finish once the pod
  // is gone, so that `comet run -d` returns only when nothing is left behind.
  std::string start_error_;
  EventLoop::TimerId stop_timer_ = 0;
  EventLoop::TimerId idle_trim_timer_ = 0;
  std::chrono::steady_clock::time_point stop_deadline_;  // when stop_timer_ sends SIGKILL
  os::UniqueFd pause_pipe_;  // the pause process exits when this write end closes
  // Contained networks (pod_net.h): the host's namespaces, where CNI plugins run, and the
  // networks attached to the pod's.
  HostNamespaces host_namespaces_;
  std::vector<network::NetworkAttachment> networks_;
  std::vector<os::UniqueFd> reserved_ports_;  // the published host ports (ReserveHostPorts)
  // A rootless pod's network: the pasta or slirp4netns process (rootless_net.h).
  std::unique_ptr<RootlessNet> rootless_net_;
};

}  // namespace comet::supervisor

#endif  // COMET_SUPERVISOR_SUPERVISOR_H_
