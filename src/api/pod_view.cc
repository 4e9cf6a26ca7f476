// Reading one pod's directory into a v1alpha.Pod (see pod_view.h).
#include "api/pod_view.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "api/app_annotations.h"
#include "api/appc_manifest.h"
#include "api/image_name.h"
#include "base/log.h"
#include "base/strings.h"
#include "os/file.h"
#include "os/unique_fd.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "pod/volatile_dir.h"

namespace comet::api {
namespace {

int64_t Nanos(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
}

// An RFC 3339 time from a status file or manifest in ns since the epoch; 0 when empty or bad.
int64_t ParseNanos(const std::string& text) {
  if (text.empty()) {
    return 0;
  }
  auto when = ParseRfc3339(text);
  return when ? Nanos(*when) : 0;
}

// Pods whose directory holds nothing settled yet (or never will): rkt shows only id and state.
bool IsBasicOnly(pod::PodState state) {
  return state == pod::PodState::kEmbryo || state == pod::PodState::kPreparing ||
         state == pod::PodState::kAbortedPrepare;
}

void AddKeyValue(google::protobuf::RepeatedPtrField<v1alpha::KeyValue>* out, const std::string& key,
                 const std::string& value) {
  v1alpha::KeyValue* kv = out->Add();
  kv->set_key(key);
  kv->set_value(value);
}

v1alpha::AppState AppStateOf(const Result<pod::AppStatus>& status, bool pod_running) {
  if (!status) {
    return v1alpha::APP_STATE_UNDEFINED;  // never started
  }
  const bool up =
      status->state == pod::AppState::kRunning || status->state == pod::AppState::kBackOff;
  if (up && pod_running) {
    return v1alpha::APP_STATE_RUNNING;
  }
  return status->exit_code >= 0 ? v1alpha::APP_STATE_EXITED : v1alpha::APP_STATE_UNDEFINED;
}

void AddApp(const std::string& pod_dir, const pod::App& app, bool pod_running, v1alpha::Pod& pod) {
  v1alpha::App* out = pod.add_apps();
  out->set_name(app.name);
  v1alpha::Image* image = out->mutable_image();
  image->set_id(app.image_id);
  ImageName name = SplitImageName(app.image);
  image->set_name(std::move(name.name));
  image->set_version(std::move(name.version));
  image->mutable_base_format()->set_type(v1alpha::IMAGE_TYPE_OCI);
  image->mutable_base_format()->set_version(kOciFormatVersion);
  // The image's manifest stays empty even with detail: clients ask InspectImage for it.
  auto status = pod::ReadAppStatus(pod_dir, app.name);
  if (!status && status.error().code() != ENOENT) {
    log::Debug("api: pod {} app {}: {}", pod.id(), app.name, status.error().ToString());
  }
  out->set_state(AppStateOf(status, pod_running));
  if (status && status->exit_code >= 0) {
    out->set_exit_code(status->exit_code);
  }
  for (const auto& [key, value] : AppAnnotations(app, status ? &*status : nullptr)) {
    AddKeyValue(out->mutable_annotations(), key, value);
  }
}

// Pod.networks while the pod runs: each contained network it joined, with its addresses (the
// supervisor's records, pod_networks.h; none for --net=none/host or a pod that ended).
void AddNetworks(const pod::PodEntry& entry, v1alpha::Pod& pod) {
  auto records = pod::ReadNetworkRecords(entry.path);
  if (!records) {
    log::Debug("api: pod {}: {}", pod.id(), records.error().ToString());
    return;
  }
  for (const pod::PodNetworkAddress& address : pod::NetworkAddresses(*records)) {
    v1alpha::Network* network = pod.add_networks();
    network->set_name(address.name);
    network->set_ipv4(address.ipv4);
    network->set_ipv6(address.ipv6);
  }
}

}  // namespace

int64_t PodStamp::NewestNs() const {
  int64_t newest = std::max({dir.mtime_ns, dir.ctime_ns, state_dir.mtime_ns, state_dir.ctime_ns});
  for (const FileStamp& app : app_status) {
    newest = std::max({newest, app.mtime_ns, app.ctime_ns});
  }
  return newest;
}

std::vector<std::string> StatusFiles(const std::string& pod_dir,
                                     const std::vector<std::string>& app_names) {
  const std::string state_prefix = os::JoinPath(pod_dir, pod::kStateLink) + "/";
  std::vector<std::string> files;
  files.reserve(app_names.size());
  for (const std::string& app : app_names) {
    std::string path = pod::AppStatusPath(pod_dir, app);
    files.push_back(StartsWith(path, state_prefix) ? path.substr(state_prefix.size())
                                                   : std::move(path));
  }
  return files;
}

// Stamping is most of what a ListPods with a warm cache costs: the status files are stat'ed
// relative to the pod's state directory, not walked to from / through the state link each time.
PodStamp StampPod(const pod::PodEntry& entry, const std::vector<std::string>& status_files) {
  PodStamp stamp;
  stamp.phase_dir = entry.phase_dir;
  stamp.state = entry.state;
  if (IsBasicOnly(entry.state)) {
    return stamp;
  }
  struct stat st {};
  os::UniqueFd dir(::open(entry.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fstat(dir.get(), &st) != 0) {
    return stamp;  // gone: the next listing will not show it
  }
  stamp.dir = StampOf(st);
  os::UniqueFd state(::openat(dir.get(), pod::kStateLink, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (state.valid() && ::fstat(state.get(), &st) == 0) {
    stamp.state_dir = StampOf(st);
  }
  stamp.app_status.resize(status_files.size());
  for (size_t i = 0; i < status_files.size(); ++i) {
    const std::string& file = status_files[i];
    // Relative names need the state directory; without it they do not exist yet.
    const int at = file.starts_with('/') ? AT_FDCWD : state.get();
    if (at != -1 && ::fstatat(at, file.c_str(), &st, 0) == 0) {
      stamp.app_status[i] = StampOf(st);
    }
  }
  return stamp;
}

PodView ReadPodView(const pod::PodEntry& entry) {
  PodView view;
  v1alpha::Pod& pod = view.pod;
  pod.set_id(entry.uuid);
  pod.set_state(static_cast<v1alpha::PodState>(entry.state));
  view.stamp = StampPod(entry, {});
  if (IsBasicOnly(entry.state)) {
    return view;
  }
  if (entry.gc_marked) {
    pod.set_gc_marked_at(Nanos(entry.phase_since));
  }
  auto text =
      os::ReadFileLimited(os::JoinPath(entry.path, pod::kManifestFile), pod::kMaxManifestBytes);
  if (!text) {
    log::Debug("api: pod {}: {}", entry.uuid, text.error().ToString());
    return view;
  }
  auto manifest = pod::ParseManifest(*text);
  if (!manifest) {
    log::Debug("api: pod {}: {}", entry.uuid, manifest.error().ToString());
    return view;
  }
  // The status files are stamped before they are read (the directories were, before the
  // manifest): whatever is written meanwhile makes the next stamp differ.
  std::vector<std::string> app_names;
  for (const pod::App& app : manifest->apps) {
    app_names.push_back(app.name);
  }
  view.status_files = StatusFiles(entry.path, app_names);
  view.stamp.app_status = StampPod(entry, view.status_files).app_status;
  // As rkt's, an appc PodManifest: rkt's clients (the kubelet) decode it with appc's schema.
  pod.set_manifest(AppcPodManifest(*manifest));
  pod.set_created_at(ParseNanos(manifest->created));
  if (auto pid = pod::ReadPodPid(entry.path); pid) {
    pod.set_pid(*pid);
  }
  if (auto supervisor = pod::ReadSupervisorStatus(entry.path); supervisor) {
    pod.set_started_at(ParseNanos(supervisor->started));
  }
  const bool running = entry.state == pod::PodState::kRunning;
  for (const pod::App& app : manifest->apps) {
    AddApp(entry.path, app, running, pod);
  }
  for (const auto& [key, value] : manifest->annotations) {  // a std::map: sorted by key
    AddKeyValue(pod.mutable_annotations(), key, value);
  }
  if (running) {
    pod.set_cgroup(pod::PodCgroupPath(entry.uuid));
    AddNetworks(entry, pod);
  }
  return view;
}

void StripDetail(v1alpha::Pod& pod) {
  pod.clear_manifest();
  pod.clear_apps();
}

}  // namespace comet::api
