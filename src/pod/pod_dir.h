// What a pod directory holds besides the manifest (docs/on-disk-format.md "Pods"), and the
// status files the supervisor writes there for every other process to read. Writers replace
// files atomically (temp + rename), so readers never see half a file. Thread-safe (no state).
//
// What persists is on disk in the pod directory; what is rewritten often or means nothing after
// a reboot is in the pod's volatile directory on tmpfs (volatile_dir.h), reached through the
// link <pod>/state, which the supervisor makes when it starts. Once a kept pod exits, its final
// statuses are copied to disk and <pod>/state becomes a directory holding them: every path below
// stays valid. A dangling link (after a reboot) reads as missing files (NotFound).
//
//   <pod>/pod                            the manifest (manifest.h)
//   <pod>/apps/<app>/                    the app's snapshot, its root filesystem (image/snapshot.h:
//                                        rootfs, overlay upper and work), kept after the pod exits
//                                        (older versions: <pod>/apps/<app>/snapshot/)
//   <pod>/logs/<app>.log                 CRI-format log (cri_log.h)
//   <pod>/volumes/<name>/                empty volumes on disk
//   <pod>/state -> <volatile root>/<uuid>
//   <pod>/state/pid                      the supervisor's pid (rkt's name), decimal + "\n"
//   <pod>/state/supervisor.json          SupervisorStatus
//   <pod>/state/supervisor-status        symlink to "ready" once every app started (rkt's name)
//   <pod>/state/ctl                      the supervisor's control socket (control.h), mode 0600
//   <pod>/state/etc/                     hosts, hostname, resolv.conf bind-mounted into apps
//   <pod>/state/apps/<app>/status.json   AppStatus
//   <pod>/state/apps/<app>/config.json   the OCI bundle config the supervisor generated (AppDir
//                                        is the bundle directory)
//   <pod>/state/runtime/                 the runtime library's state root for the pod's
//                                        containers
#ifndef COMET_POD_POD_DIR_H_
#define COMET_POD_POD_DIR_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace comet::pod {

inline constexpr const char* kManifestFile = "pod";
// Relative to the pod directory, through the state link.
inline constexpr const char* kPidFile = "state/pid";
inline constexpr const char* kSupervisorStatusFile = "state/supervisor.json";
inline constexpr const char* kReadyLink = "state/supervisor-status";
inline constexpr const char* kControlSocket = "state/ctl";

// The app's volatile directory (<pod>/state/apps/<app>): its status and, for a tty app, the
// console socket; it is the app's OCI bundle directory (the spec itself goes to the runtime in
// memory).
std::string AppDir(const std::string& pod_dir, std::string_view app);
std::string AppStatusPath(const std::string& pod_dir, std::string_view app);
// The app's directory on disk, which is its snapshot (image/snapshot.h): <pod>/apps/<app>.
std::string AppSnapshotDir(const std::string& pod_dir, std::string_view app);
std::string AppLogPath(const std::string& pod_dir, std::string_view app);
std::string VolumeDir(const std::string& pod_dir, std::string_view volume);
std::string RuntimeRoot(const std::string& pod_dir);
// <pod>/state/etc/<name>.
std::string PodEtcPath(const std::string& pod_dir, std::string_view name);
// Creates AppDir (0750) and <pod>/apps (0750), where CreateSnapshot makes AppSnapshotDir.
[[nodiscard]] Status MakeAppDirs(const std::string& pod_dir, std::string_view app);
// The name of the image store lease a pod holds on its images: "pod-<uuid>".
std::string PodLeaseName(std::string_view uuid);
// The cgroup path (relative to each hierarchy's root) of the pod ("/comet/pod-<uuid>") and of
// one app ("/comet/pod-<uuid>/<app>").
std::string PodCgroupPath(std::string_view uuid);
std::string AppCgroupPath(std::string_view uuid, std::string_view app);

// rkt's AppState plus the states an app passes through under a supervisor.
enum class AppState {
  kCreated,  // in the manifest, not started yet (or `app add` without start)
  kRunning,
  kBackOff,  // exited, waiting to be restarted (next_start)
  kExited,   // exited for good (policy, stop, or pod stopping)
  kRemoved,  // `app rm` in progress or done
};
[[nodiscard]] std::string_view AppStateName(AppState state);  // "created", "running", ...
[[nodiscard]] Result<AppState> ParseAppState(std::string_view name);

// One run of an app.
struct AppAttempt {
  std::string started;   // RFC 3339 nanoseconds, UTC
  std::string finished;  // empty while running
  int exit_code = -1;    // 128 + n when killed by signal n
};

struct AppStatus {
  std::string name;
  AppState state = AppState::kCreated;
  pid_t pid = 0;       // of the app's init (in the supervisor's pid namespace), while running
  int exit_code = -1;  // of the last run; -1 before the first exit
  std::string created;
  std::string started;     // of the last run
  std::string finished;    // of the last run
  std::string next_start;  // kBackOff: when the restart is due
  int restarts = 0;
  // "Completed" (exit 0), "Error", "OOMKilled", "Signaled", "StartError" (with the message in
  // `message`), "BackOff".
  std::string reason;
  std::string message;
  std::vector<AppAttempt> attempts;  // the most recent kMaxAttempts runs, oldest first
};
inline constexpr size_t kMaxAttempts = 32;

struct SupervisorStatus {
  pid_t pid = 0;
  std::string started;   // RFC 3339 nanoseconds, UTC
  std::string finished;  // when the supervisor exited (empty while running)
  bool ready = false;    // every app started (init containers done)
  int exit_code = -1;    // what `comet run` returned, once finished
};

[[nodiscard]] std::string AppStatusToJson(const AppStatus& status);
[[nodiscard]] Result<AppStatus> ParseAppStatus(std::string_view json);
[[nodiscard]] Status WriteAppStatus(const std::string& pod_dir, const AppStatus& status);
// NotFound when the app never got a status file (never started).
[[nodiscard]] Result<AppStatus> ReadAppStatus(const std::string& pod_dir, std::string_view app);

[[nodiscard]] std::string SupervisorStatusToJson(const SupervisorStatus& status);
[[nodiscard]] Result<SupervisorStatus> ParseSupervisorStatus(std::string_view json);
[[nodiscard]] Status WriteSupervisorStatus(const std::string& pod_dir,
                                           const SupervisorStatus& status);
[[nodiscard]] Result<SupervisorStatus> ReadSupervisorStatus(const std::string& pod_dir);

// Writes <pod>/pid (atomically, no fsync), for the supervisor.
[[nodiscard]] Status WritePodPid(const std::string& pod_dir, pid_t pid);
// Reads <pod>/pid; NotFound when the supervisor never got that far.
[[nodiscard]] Result<pid_t> ReadPodPid(const std::string& pod_dir);

}  // namespace comet::pod

#endif  // COMET_POD_POD_DIR_H_
