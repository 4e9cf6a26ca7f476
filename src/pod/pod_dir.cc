// Paths inside a pod directory and the status files the supervisor writes there. See pod_dir.h.
// Thread-safe (no state).
#include "pod/pod_dir.h"

#include <cerrno>
#include <climits>

#include <fmt/format.h>

#include "base/enum_names.h"
#include "base/strings.h"
#include "os/file.h"
#include "pod/json_fields.h"
#include "pod/volatile_dir.h"

namespace comet::pod {
namespace {

using internal::IndexPath;
using internal::Json;
using internal::ObjectReader;
using internal::OrderedJson;

// <pod>/apps/<app>: on disk, for what outlives the pod's run (the snapshot, which it is).
std::string AppDiskDir(const std::string& pod_dir, std::string_view app) {
  return os::JoinPath(os::JoinPath(pod_dir, "apps"), app);
}

// Status files are a few KiB (32 attempts at most); this bounds a planted one.
constexpr size_t kMaxStatusBytes = 1 << 20;

constexpr EnumName<AppState> kAppStateNames[] = {{AppState::kCreated, "created"},
                                                 {AppState::kRunning, "running"},
                                                 {AppState::kBackOff, "backoff"},
                                                 {AppState::kExited, "exited"},
                                                 {AppState::kRemoved, "removed"}};

// A status file's text: compact JSON and a newline.
std::string StatusFileText(const OrderedJson& value) {
  return internal::Dump(value, false) + "\n";
}

// Parses a status file (`what` names it in errors) and reads its members with read(reader, &out).
template <class T, class F>
Result<T> ParseStatusFile(std::string_view text, std::string_view what, F read) {
  ASSIGN_OR_RETURN(Json tree, internal::ParseObject(text, kMaxStatusBytes, what));
  T out;
  RETURN_IF_ERROR(read(ObjectReader(tree, ""), &out));
  return out;
}

Result<std::string> ReadStatusFile(const std::string& path) {
  auto text = os::ReadFileLimited(path, kMaxStatusBytes);
  if (!text) {
    Error error = std::move(text).error();
    if (error.code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("{}: no such file", path)));
    }
    return Err(std::move(error));
  }
  return text;
}

}  // namespace

std::string AppDir(const std::string& pod_dir, std::string_view app) {
  return os::JoinPath(os::JoinPath(os::JoinPath(pod_dir, kStateLink), "apps"), app);
}
std::string AppStatusPath(const std::string& pod_dir, std::string_view app) {
  return os::JoinPath(AppDir(pod_dir, app), "status.json");
}
std::string AppSnapshotDir(const std::string& pod_dir, std::string_view app) {
  return AppDiskDir(pod_dir, app);
}
std::string AppLogPath(const std::string& pod_dir, std::string_view app) {
  return os::JoinPath(os::JoinPath(pod_dir, "logs"), fmt::format("{}.log", app));
}
std::string VolumeDir(const std::string& pod_dir, std::string_view volume) {
  return os::JoinPath(os::JoinPath(pod_dir, "volumes"), volume);
}
std::string RuntimeRoot(const std::string& pod_dir) {
  return os::JoinPath(os::JoinPath(pod_dir, kStateLink), "runtime");
}
std::string PodEtcPath(const std::string& pod_dir, std::string_view name) {
  return os::JoinPath(os::JoinPath(os::JoinPath(pod_dir, kStateLink), "etc"), name);
}
Status MakeAppDirs(const std::string& pod_dir, std::string_view app) {
  RETURN_IF_ERROR(os::MkdirAll(AppDir(pod_dir, app), 0750));
  // The snapshot is the app's directory itself: one directory less to make and remove on the
  // data directory's disk at every pod start.
  return os::MkdirAll(os::JoinPath(pod_dir, "apps"), 0750);
}
std::string PodLeaseName(std::string_view uuid) {
  return fmt::format("pod-{}", uuid);
}
std::string PodCgroupPath(std::string_view uuid) {
  return fmt::format("/comet/pod-{}", uuid);
}
std::string AppCgroupPath(std::string_view uuid, std::string_view app) {
  return fmt::format("/comet/pod-{}/{}", uuid, app);
}

std::string_view AppStateName(AppState state) {
  return NameOf(kAppStateNames, state);
}

Result<AppState> ParseAppState(std::string_view name) {
  if (auto state = ValueOf(kAppStateNames, name)) {
    return *state;
  }
  return Err(Error::Invalid(fmt::format("unknown app state \"{}\"", internal::Printable(name))));
}

std::string AppStatusToJson(const AppStatus& s) {
  OrderedJson attempts = OrderedJson::array();
  for (const AppAttempt& a : s.attempts) {
    attempts.push_back(
        {{"started", a.started}, {"finished", a.finished}, {"exit_code", a.exit_code}});
  }
  OrderedJson out = {
      {"name", s.name},           {"state", AppStateName(s.state)}, {"pid", s.pid},
      {"exit_code", s.exit_code}, {"created", s.created},           {"started", s.started},
      {"finished", s.finished},   {"next_start", s.next_start},     {"restarts", s.restarts},
      {"reason", s.reason},       {"message", s.message},           {"attempts", attempts}};
  return StatusFileText(out);
}

Result<AppStatus> ParseAppStatus(std::string_view json) {
  return ParseStatusFile<AppStatus>(
      json, "app status", [](const ObjectReader& r, AppStatus* s) -> Status {
        RETURN_IF_ERROR(r.String("name", &s->name));
        std::string state = "created";
        RETURN_IF_ERROR(r.String("state", &state));
        auto parsed = ParseAppState(state);
        if (!parsed) {
          return Err(internal::PathError("state", parsed.error().message()));
        }
        s->state = *parsed;
        RETURN_IF_ERROR(r.Int("pid", &s->pid));
        RETURN_IF_ERROR(r.Int("exit_code", &s->exit_code));
        RETURN_IF_ERROR(r.String("created", &s->created));
        RETURN_IF_ERROR(r.String("started", &s->started));
        RETURN_IF_ERROR(r.String("finished", &s->finished));
        RETURN_IF_ERROR(r.String("next_start", &s->next_start));
        RETURN_IF_ERROR(r.Int("restarts", &s->restarts));
        RETURN_IF_ERROR(r.String("reason", &s->reason));
        RETURN_IF_ERROR(r.String("message", &s->message));
        std::vector<const Json*> items;
        RETURN_IF_ERROR(r.ObjectArray("attempts", &items));
        for (size_t i = 0; i < items.size(); ++i) {
          ObjectReader a(*items[i], IndexPath("attempts", i));
          AppAttempt attempt;
          RETURN_IF_ERROR(a.String("started", &attempt.started));
          RETURN_IF_ERROR(a.String("finished", &attempt.finished));
          RETURN_IF_ERROR(a.Int("exit_code", &attempt.exit_code));
          s->attempts.push_back(std::move(attempt));
        }
        return Ok();
      });
}

Status WriteAppStatus(const std::string& pod_dir, const AppStatus& status) {
  // The name becomes a path component: never let a bad one escape apps/.
  if (status.name.empty() || status.name.find('/') != std::string::npos || status.name == "." ||
      status.name == "..") {
    return Err(Error::Invalid(
        fmt::format("app status: invalid app name \"{}\"", internal::Printable(status.name))));
  }
  RETURN_IF_ERROR(os::MkdirAll(AppDir(pod_dir, status.name), 0750));
  // No fsync: statuses change often (every restart) and mean nothing after a reboot, when no
  // pod runs anyway; the rename still keeps readers from seeing half a file.
  return os::ReplaceFile(AppStatusPath(pod_dir, status.name), AppStatusToJson(status), 0644);
}

Result<AppStatus> ReadAppStatus(const std::string& pod_dir, std::string_view app) {
  std::string path = AppStatusPath(pod_dir, app);
  ASSIGN_OR_RETURN(std::string text, ReadStatusFile(path));
  auto status = ParseAppStatus(text);
  if (!status) {
    return Err(std::move(status).error().AddContext(path));
  }
  return status;
}

std::string SupervisorStatusToJson(const SupervisorStatus& s) {
  OrderedJson out = {{"pid", s.pid},
                     {"started", s.started},
                     {"finished", s.finished},
                     {"ready", s.ready},
                     {"exit_code", s.exit_code}};
  return StatusFileText(out);
}

Result<SupervisorStatus> ParseSupervisorStatus(std::string_view json) {
  return ParseStatusFile<SupervisorStatus>(
      json, "supervisor status", [](const ObjectReader& r, SupervisorStatus* s) -> Status {
        RETURN_IF_ERROR(r.Int("pid", &s->pid));
        RETURN_IF_ERROR(r.String("started", &s->started));
        RETURN_IF_ERROR(r.String("finished", &s->finished));
        RETURN_IF_ERROR(r.Bool("ready", &s->ready));
        return r.Int("exit_code", &s->exit_code);
      });
}

Status WriteSupervisorStatus(const std::string& pod_dir, const SupervisorStatus& status) {
  return os::ReplaceFile(os::JoinPath(pod_dir, kSupervisorStatusFile),
                         SupervisorStatusToJson(status), 0644);
}

Result<SupervisorStatus> ReadSupervisorStatus(const std::string& pod_dir) {
  std::string path = os::JoinPath(pod_dir, kSupervisorStatusFile);
  ASSIGN_OR_RETURN(std::string text, ReadStatusFile(path));
  auto status = ParseSupervisorStatus(text);
  if (!status) {
    return Err(std::move(status).error().AddContext(path));
  }
  return status;
}

Status WritePodPid(const std::string& pod_dir, pid_t pid) {
  return os::ReplaceFile(os::JoinPath(pod_dir, kPidFile), fmt::format("{}\n", pid), 0644);
}

Result<pid_t> ReadPodPid(const std::string& pod_dir) {
  std::string path = os::JoinPath(pod_dir, kPidFile);
  auto text = os::ReadFileLimited(path, 64);
  if (!text) {
    Error error = std::move(text).error();
    if (error.code() == ENOENT) {
      return Err(Error::NotFound(fmt::format("{}: no such file", path)));
    }
    return Err(std::move(error));
  }
  auto pid = ParseInt(TrimSpace(*text));
  if (!pid || *pid <= 0 || *pid > INT_MAX) {
    return Err(Error::Invalid(
        fmt::format("{}: \"{}\" is not a pid", path, internal::Printable(TrimSpace(*text)))));
  }
  return static_cast<pid_t>(*pid);
}

}  // namespace comet::pod
