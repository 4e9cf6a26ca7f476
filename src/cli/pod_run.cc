// Stage0: images and flags to a pod directory (embryo -> prepare -> prepared|run), then the
// supervisor. Any failure before the supervisor runs removes the pod and releases its lease.
#include "cli/pod_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/log.h"
#include "base/strings.h"
#include "cli/data_dir.h"
#include "cli/event_record.h"
#include "cli/image_pull.h"
#include "cli/pod_devices.h"
#include "cli/pod_launch.h"
#include "cli/pod_net_flags.h"
#include "cli/pod_net_plan.h"
#include "cli/pod_run_app.h"
#include "cli/pod_run_flags.h"
#include "cli/rootless_userns.h"
#include "image/layer_trees.h"
#include "os/file.h"
#include "pod/control.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "pod/pod_store.h"

namespace comet::cli {
namespace {

// Test hook (pod-design.md): COMET_TEST_CRASH_AT=<step> kills this process at that step, so
// tests can check that `gc` cleans up after a stage0 killed anywhere.
void CrashPoint(const char* step) {
  const char* at = std::getenv("COMET_TEST_CRASH_AT");  // NOLINT(concurrency-mt-unsafe)
  if (at != nullptr && std::strcmp(at, step) == 0) {
    (void)::raise(SIGKILL);
  }
}

bool Rootless() {
  return ::geteuid() != 0 || InRootlessUserNamespace();
}

Status Print(std::string_view text) {
  RETURN_IF_ERROR_CTX(os::WriteAll(STDOUT_FILENO, text), "writing to stdout");
  return Ok();
}

// What every command here opens: the data dir, its image store and its pods directory.
struct Stage0 {
  CometGlobalFlags global;
  std::string data_dir;
  image::Store store;
  pod::PodStore pods;
};

Result<Stage0> OpenStage0(const CometGlobalFlags& global) {
  ASSIGN_OR_RETURN(std::string data_dir, DataDir(global.dir));
  ASSIGN_OR_RETURN(image::Store store, OpenImageStore(data_dir, global));
  ASSIGN_OR_RETURN(pod::PodStore pods, pod::PodStore::Open(os::JoinPath(data_dir, "pods")));
  return Stage0{global, std::move(data_dir), std::move(store), std::move(pods)};
}

// Host volume sources must exist now: the supervisor would fail later, with the pod half made.
Status CheckHostVolumes(const pod::PodManifest& manifest) {
  for (const pod::Volume& volume : manifest.volumes) {
    struct stat st {};
    if (volume.kind == pod::VolumeKind::kHost && ::stat(volume.source.c_str(), &st) != 0) {
      const int code = errno;
      return Err(Error(code, fmt::format("volume {}: source {}", volume.name, volume.source),
                       /*os_cause=*/true));
    }
  }
  return Ok();
}

Status CheckUniqueNames(const std::vector<pod::App>& apps) {
  for (size_t i = 0; i < apps.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (apps[i].name == apps[j].name) {
        return Err(Error::Invalid(
            fmt::format("app name {:?} used twice (images {} and {}): give one of them --name",
                        apps[i].name, apps[j].image, apps[i].image)));
      }
    }
  }
  return Ok();
}

// Resolves one image group into an app, adding the image to the pod's lease.
Result<std::pair<pod::App, ResolvedImage>> ResolveApp(Stage0& s, const PodRunOptions& options,
                                                      const AppFlags& flags, image::Lease& lease,
                                                      const std::vector<std::string>& pod_env) {
  ASSIGN_OR_RETURN(ResolvedImage image,
                   ResolveImage(s.store, flags.app.image,
                                flags.pull_policy.value_or(options.pull_policy), options.quiet));
  RETURN_IF_ERROR_CTX(lease.Add(image.LeaseDigests()), "image " + flags.app.image);
  std::string name = flags.app.name;
  if (name.empty()) {
    ASSIGN_OR_RETURN(name,
                     DefaultAppName(flags.app.image, image.record, s.store.reference_options()));
  }
  ASSIGN_OR_RETURN(pod::App app, BuildApp(flags, name, image, pod_env, options.pod_mounts));
  RETURN_IF_ERROR_CTX(ApplyDeviceFlags(options, flags, s.global.cdi_spec_dirs, app), "app " + name);
  return std::make_pair(std::move(app), std::move(image));
}

// Unpacks the images' layers and records each app's layer trees in it, so that the supervisor
// mounts them without opening the image store (pod::App::layers).
Status EnsureLayers(Stage0& s, const std::vector<ResolvedImage>& images,
                    std::vector<pod::App>& apps) {
  const image::UnpackOptions unpack = image::DefaultUnpackOptions();
  for (const ResolvedImage& image : images) {
    RETURN_IF_ERROR_CTX(image::EnsureImageLayers(s.store, image.manifest, image.config, unpack),
                        "unpacking " + image.record.manifest_digest.ToString());
    (void)s.store.MarkUsed(image.record.manifest_digest);
    ASSIGN_OR_RETURN(std::vector<std::string> layers, s.store.LayerPaths(image.record));
    for (pod::App& app : apps) {
      if (app.image_id == image.record.manifest_digest.ToString()) {
        app.layers = layers;
      }
    }
  }
  return Ok();
}

// The manifest of a new pod, its images resolved and leased.
Result<pod::PodManifest> DraftManifest(Stage0& s, const PodRunOptions& options, image::Lease& lease,
                                       std::vector<ResolvedImage>& images) {
  pod::PodManifest manifest = options.pod;
  RETURN_IF_ERROR(CheckHostVolumes(manifest));  // before any pull: a typo should fail fast
  ASSIGN_OR_RETURN(std::vector<std::string> pod_env, LoadPodEnv(options));
  for (const AppFlags& flags : options.apps) {
    ASSIGN_OR_RETURN(auto resolved, ResolveApp(s, options, flags, lease, pod_env));
    manifest.apps.push_back(std::move(resolved.first));
    images.push_back(std::move(resolved.second));
  }
  // Init containers run first, in the order given (pod::PodManifest::apps).
  std::stable_partition(manifest.apps.begin(), manifest.apps.end(),
                        [](const pod::App& app) { return app.init; });
  if (options.no_overlay) {
    manifest.annotations[pod::kNoOverlayAnnotation] = "true";
  }
  manifest.rootless = Rootless();
  RETURN_IF_ERROR(CheckUniqueNames(manifest.apps));
  std::vector<ExposedPort> exposed;
  for (const ResolvedImage& image : images) {
    for (ExposedPort& port : NamedExposedPorts(image.config.config.exposed_ports)) {
      exposed.push_back(std::move(port));
    }
  }
  RETURN_IF_ERROR(ResolveNamedPorts(manifest.ports, exposed));
  return manifest;
}

// The event log's details of a pod: its name, when it has one.
std::vector<std::pair<std::string, std::string>> PodEventData(const pod::PodManifest& manifest) {
  if (manifest.name.empty()) {
    return {};
  }
  return {{"name", manifest.name}};
}

// Undoes a pod that never reached its supervisor: directory to garbage/ and removed.
void DiscardPod(const Stage0& s, pod::Pod pod) {
  if (pod.phase_dir() == "prepare") {
    Status aborted = pod.AbortPrepare();
    if (!aborted) {
      log::Warning("discarding pod {}: {}", pod.uuid(), aborted.error().ToString());
    }
  }
  Status removed = s.pods.Remove(std::move(pod));
  if (!removed) {
    log::Warning("removing pod: {}", removed.error().ToString());
  }
}

// A pod in run/ whose supervisor could not be started (its lock already closed).
void DiscardStartedPod(const Stage0& s, const std::string& uuid) {
  if (Status marked = s.pods.MarkExited(uuid); !marked) {
    log::Warning("discarding pod {}: {}", uuid, marked.error().ToString());
    return;
  }
  auto pod = s.pods.LockForRemoval(uuid);
  if (!pod) {
    log::Warning("discarding pod {}: {}", uuid, pod.error().ToString());
    return;
  }
  DiscardPod(s, std::move(*pod));
}

Status WriteUuidFile(const std::string& path, const std::string& uuid) {
  RETURN_IF_ERROR_CTX(os::WriteFileAtomic(path, uuid + "\n", 0644), "--uuid-file-save");
  return Ok();
}

// Execs (foreground) or starts (detached) the supervisor of a pod locked in run/. Returns the
// exit code of a detached start; a foreground start returns only on error. `handed_over` is
// set once the supervisor runs: the pod and its lease are then its own.
Result<int> StartSupervisor(const Stage0& s, pod::Pod& pod, const std::string& binary,
                            const PodRunOptions& options, bool& handed_over) {
  SupervisorLaunch launch;
  launch.binary = binary;
  launch.pod_dir = pod.path();
  launch.data_dir = s.data_dir;
  launch.debug = s.global.debug;
  launch.rm = options.rm;
  launch.detach = options.detach;
  ASSIGN_OR_RETURN(launch.lock_fd, pod.ReleaseLockForExec());
  CrashPoint("run");
  LaunchResult result;
  Status launched = LaunchSupervisor(launch, result);
  handed_over = result.started;
  RETURN_IF_ERROR(launched);
  if (options.print_uuid) {
    RETURN_IF_ERROR(Print(pod.uuid() + "\n"));
  }
  return 0;
}

// PodRunOptions::pod_files, under directories of mode 0700 (secrets may be among them).
Status WritePodFiles(const std::string& pod_dir, const std::vector<PodFile>& files) {
  for (const PodFile& file : files) {
    const std::vector<std::string> parts = Split(file.path, '/');
    const bool clean = !file.path.empty() && file.path.front() != '/' &&
                       std::none_of(parts.begin(), parts.end(), [](const std::string& part) {
                         return part.empty() || part == "." || part == "..";
                       });
    if (!clean) {
      return Err(
          Error::Invalid(fmt::format("pod file {:?}: not a clean relative path", file.path)));
    }
    const std::string path = os::JoinPath(pod_dir, file.path);
    RETURN_IF_ERROR(os::MkdirAll(path.substr(0, path.rfind('/')), 0700));
    RETURN_IF_ERROR_CTX(os::WriteFile(path, file.content, file.mode & 07777), file.path);
  }
  return Ok();
}

// The steps after the pod directory exists; on error (unless handed over) the caller discards
// the pod.
Result<int> FillPod(Stage0& s, pod::Pod& pod, pod::PodManifest manifest,
                    const std::vector<network::NetworkAttachment>& networks,
                    const std::vector<ResolvedImage>& images, const PodRunOptions& options,
                    const std::string& supervisor, bool& handed_over) {
  CrashPoint("prepare");
  RETURN_IF_ERROR(EnsureLayers(s, images, manifest.apps));
  CrashPoint("layers");
  const bool durable = options.command == "prepare";
  if (!networks.empty()) {
    RETURN_IF_ERROR_CTX(pod::WriteNetworkPlan(pod.path(), networks), "the pod's network plan");
  }
  RETURN_IF_ERROR(WritePodFiles(pod.path(), options.pod_files));
  RETURN_IF_ERROR(pod::WriteManifest(pod.path(), manifest, durable));
  CrashPoint("manifest");
  RecordEvent(s.data_dir, pod::EventType::kPodPrepared, pod.uuid(), PodEventData(manifest));
  if (!options.uuid_file_save.empty()) {
    RETURN_IF_ERROR(WriteUuidFile(options.uuid_file_save, pod.uuid()));
  }
  if (options.command == "prepare") {
    RETURN_IF_ERROR(pod.FinishPrepare());
    handed_over = true;
    if (options.print_uuid) {
      RETURN_IF_ERROR(Print(pod.uuid() + "\n"));
    }
    return 0;
  }
  RETURN_IF_ERROR(pod.StartRunning());
  return StartSupervisor(s, pod, supervisor, options, handed_over);
}

// Undoes everything of a pod whose supervisor never ran: its directory, wherever it got to,
// the --uuid-file-save file and the image lease.
void UndoPod(const Stage0& s, std::optional<pod::Pod> pod, const std::string& uuid,
             const PodRunOptions& options) {
  if (pod && pod->phase_dir() == "prepare" && pod->locked()) {
    DiscardPod(s, std::move(*pod));
    RecordEvent(s.data_dir, pod::EventType::kPodPrepareAborted, uuid);
  } else if (pod) {
    pod.reset();  // drops a lock still held, so that the pod counts as exited
    DiscardStartedPod(s, uuid);
  }
  if (!options.uuid_file_save.empty()) {
    (void)::unlink(options.uuid_file_save.c_str());
  }
  const std::string lease_name = pod::PodLeaseName(uuid);
  if (Status released = s.store.ReleaseLease(lease_name); !released) {
    log::Warning("releasing image lease {}: {}", lease_name, released.error().ToString());
  }
}

}  // namespace

// run, prepare, app sandbox.
Result<int> MakePod(const CometGlobalFlags& global, const PodRunOptions& options,
                    std::string* uuid_out) {
  ASSIGN_OR_RETURN(Stage0 s, OpenStage0(global));
  std::string supervisor;
  if (options.command != "prepare") {
    ASSIGN_OR_RETURN(supervisor, SupervisorBinary());
  }
  // The pod directory comes first: from then on a crash leaves a prepare/ pod that gc finds
  // and tears down, lease included (a lease alone would protect its images forever).
  ASSIGN_OR_RETURN(pod::Pod pod, s.pods.CreatePreparing());
  const std::string uuid = pod.uuid();
  if (uuid_out != nullptr) {
    *uuid_out = uuid;
  }
  CrashPoint("embryo");
  std::vector<ResolvedImage> images;
  // A pod that runs at once is dead after a power cut: its lease need not reach the disk.
  auto lease = s.store.AcquireLease(
      pod::PodLeaseName(uuid), options.command == "prepare" ? image::Store::Durability::kDurable
                                                            : image::Store::Durability::kVolatile);
  auto manifest = lease ? DraftManifest(s, options, *lease, images)
                        : Result<pod::PodManifest>(Err(lease.error()));
  Result<std::vector<network::NetworkAttachment>> networks =
      std::vector<network::NetworkAttachment>{};
  if (manifest) {
    manifest->uuid = uuid;
    manifest->created = FormatRfc3339Nano(std::chrono::system_clock::now());
    if (Status valid = pod::ValidateManifest(*manifest); !valid) {
      manifest = Err(std::move(valid).error());
    } else if (networks = PlanPodNetworks(*manifest, global.local_config); !networks) {
      manifest = Err(networks.error());
    }
  }
  if (!manifest) {
    UndoPod(s, std::move(pod), uuid, options);
    return Err(std::move(manifest).error());
  }
  bool handed_over = false;
  auto filled =
      FillPod(s, pod, std::move(*manifest), *networks, images, options, supervisor, handed_over);
  if (!filled && !handed_over) {
    UndoPod(s, std::move(pod), uuid, options);
  }
  return filled;
}

namespace {

// run-prepared UUID [-d] [-i] [--rm].
Result<int> RunPrepared(const CometGlobalFlags& global, const PodRunOptions& options) {
  ASSIGN_OR_RETURN(Stage0 s, OpenStage0(global));
  ASSIGN_OR_RETURN(std::string supervisor, SupervisorBinary());
  ASSIGN_OR_RETURN(pod::PodEntry entry, s.pods.Find(options.uuid));
  ASSIGN_OR_RETURN(pod::Pod pod, s.pods.StartPrepared(entry.uuid));
  if (options.interactive) {
    // -i here gives the terminal's stdin to the first app, as `run -i` would have.
    auto manifest = pod::ReadManifest(pod.path());
    Status written = manifest ? Status(Ok()) : Status(Err(manifest.error()));
    auto first = manifest ? std::find_if(manifest->apps.begin(), manifest->apps.end(),
                                         [](const pod::App& app) { return !app.init; })
                          : std::vector<pod::App>::iterator{};
    if (manifest && first != manifest->apps.end()) {
      first->stdin = true;
      written = pod::WriteManifest(pod.path(), *manifest);
    }
    RETURN_IF_ERROR(written);
  }
  bool handed_over = false;
  return StartSupervisor(s, pod, supervisor, options, handed_over);
}

// app add UUID IMAGE [app flags] [-- ARGS]: the app goes to the supervisor, which writes the
// manifest; stage0 only resolves, leases and unpacks the image.
Result<int> AppAdd(const CometGlobalFlags& global, const PodRunOptions& options) {
  ASSIGN_OR_RETURN(Stage0 s, OpenStage0(global));
  ASSIGN_OR_RETURN(pod::PodEntry entry, s.pods.Find(options.uuid));
  if (entry.state != pod::PodState::kRunning) {
    return Err(Error::Invalid(
        fmt::format("pod {} is {}, not running", entry.uuid, pod::PodStateName(entry.state))));
  }
  ASSIGN_OR_RETURN(pod::PodManifest manifest, pod::ReadManifest(entry.path));
  if (!manifest.mutable_pod) {
    return Err(Error::Invalid(
        fmt::format("pod {} is not mutable (make one with app sandbox)", entry.uuid)));
  }
  ASSIGN_OR_RETURN(image::Lease lease, s.store.AcquireLease(pod::PodLeaseName(entry.uuid)));
  ASSIGN_OR_RETURN(auto resolved, ResolveApp(s, options, options.apps.front(), lease, {}));
  manifest.apps.push_back(resolved.first);
  RETURN_IF_ERROR(CheckUniqueNames(manifest.apps));
  RETURN_IF_ERROR(pod::ValidateManifest(manifest));
  RETURN_IF_ERROR(EnsureLayers(s, {resolved.second}, manifest.apps));
  resolved.first.layers = manifest.apps.back().layers;
  pod::ControlRequest request;
  request.op = pod::ControlOp::kAppAdd;
  request.new_app = std::move(resolved.first);
  RETURN_IF_ERROR_CTX(pod::CallControl(entry.path, request), "pod " + entry.uuid);
  return 0;
}

// Rootless: the commands run again in the user's namespace (rootless_userns.h) with the same
// arguments, read back from /proc/self/cmdline since only the command's own are passed here.
Result<std::optional<int>> ReexecIfRootless() {
  if (::geteuid() == 0) {
    return std::optional<int>();
  }
  ASSIGN_OR_RETURN(std::string cmdline, os::ReadFileLimited("/proc/self/cmdline", 1 << 20));
  std::vector<std::string> argv = Split(cmdline, '\0');
  if (!argv.empty() && argv.back().empty()) {
    argv.pop_back();
  }
  return ReexecInUserNamespaceIfRootless(argv);
}

}  // namespace

bool IsPodRunCommand(const std::string& command) {
  return command == "run" || command == "prepare" || command == "run-prepared" ||
         command == "app sandbox" || command == "app add";
}

Result<int> RunPodCommand(const CometGlobalFlags& global, const std::string& command,
                          const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(PodRunOptions options, ParsePodRunArgs(command, args));
  if (options.help) {
    RETURN_IF_ERROR(Print(PodRunHelp(command)));
    return 0;
  }
  ASSIGN_OR_RETURN(std::optional<int> reexec, ReexecIfRootless());
  if (reexec) {
    return *reexec;
  }
  if (command == "run-prepared") {
    return RunPrepared(global, options);
  }
  if (command == "app add") {
    return AppAdd(global, options);
  }
  return MakePod(global, options, nullptr);
}

}  // namespace comet::cli
